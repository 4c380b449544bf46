import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes `data` to `path` all or nothing: into a temporary file beside it (same file system, so the rename is
/// atomic), flushed, then renamed over `path`. A full disk or a crash never leaves a partial file under the name the
/// user asked for, and an older file there survives a failed write; the temporary file is removed on failure.
///
/// SIGTERM, SIGINT and SIGHUP are deferred from the temporary file's creation to its rename (or removal): one that
/// arrives meanwhile ends the process right after, with the whole file in place or the temporary one removed — never
/// a stray `.NAME.XXXXXX` beside the file the user asked for. (Masking the signals would not do: in a multithreaded
/// process any other thread may take them.)
func writeUserFileAtomically(_ data: Data, to path: String) throws {
    try writeUserFileAtomically(to: path) { writeAll(data, to: $0) }
}

/// `writeUserFileAtomically` with the content of the file at `source`, copied a piece at a time (a downloaded export
/// of any size).
func writeUserFileAtomically(copying source: String, to path: String) throws {
    guard let input = FileHandle(forReadingAtPath: source) else {
        throw ClientError(.failure, "cannot read the downloaded file \(source)")
    }
    defer { try? input.close() }
    try writeUserFileAtomically(to: path) { descriptor in
        while true {
            let piece: Data
            do {
                piece = try input.read(upToCount: 1 << 20) ?? Data()
            } catch {
                return EIO
            }
            if piece.isEmpty { return nil }
            if let failure = writeAll(piece, to: descriptor) { return failure }
        }
    }
}

/// What is at the name the user gave decides how it is written. A symbolic link is written through (its target is
/// replaced, as editors do); a device, FIFO or socket (`-o /dev/stdout`, `-o /dev/null`) is written to in place —
/// renaming over it would replace the node itself, as `-o /dev/full` once did; a regular file or a new name is
/// replaced atomically.
private func writeUserFileAtomically(to path: String, content: (Int32) -> Int32?) throws {
    var target = path
    var link = stat()
    let isLink = lstat(path, &link) == 0 && link.st_mode & S_IFMT == S_IFLNK
    if isLink, let resolved = realpath(path, nil) {
        target = String(cString: resolved)
        free(resolved)
    }
    var status = stat()
    if stat(target, &status) == 0 {
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ClientError(.failure, "cannot write \(path): it is a directory; name a file with -o FILE")
        default: return try writeInPlace(path, content: content)
        }
    } else if isLink {
        throw ClientError(
            .failure, "cannot write \(path): it is a symbolic link to a file that does not exist; nothing was written")
    }
    try replaceAtomically(target, named: path, content: content)
}

private func writeInPlace(_ path: String, content: (Int32) -> Int32?) throws {
    let descriptor = open(path, O_WRONLY)
    guard descriptor >= 0 else { throw writeFailure(path, directory: path, errno: errno) }
    var failure = content(descriptor)
    if close(descriptor) != 0 && failure == nil { failure = errno }
    if let failure { throw writeFailure(path, directory: path, errno: failure) }
}

private func replaceAtomically(_ path: String, named name: String, content: (Int32) -> Int32?) throws {
    let stopping = [SIGTERM, SIGINT, SIGHUP]
    let previous = stopping.map { signal($0, { deferredSignal = $0 }) }
    defer {
        for (stop, handler) in zip(stopping, previous) { signal(stop, handler) }
        if deferredSignal != 0 { raise(deferredSignal) }
    }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var template = "\(directory)/.\(url.lastPathComponent).XXXXXX".utf8CString
    let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    guard descriptor >= 0 else { throw writeFailure(name, directory: directory, errno: errno) }
    let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }

    var failure = content(descriptor)
    // mkstemp creates the file 0600; give it the mode a plain create would (0666 less the umask).
    let mask = umask(0)
    umask(mask)
    if failure == nil && fchmod(descriptor, 0o666 & ~mask) != 0 { failure = errno }
    // fsync before the rename: otherwise a crash can leave the new name pointing at unwritten blocks.
    if failure == nil && fsync(descriptor) != 0 { failure = errno }
    if close(descriptor) != 0 && failure == nil { failure = errno }
    if failure == nil && rename(temporary, path) != 0 { failure = errno }
    if let failure {
        unlink(temporary)
        throw writeFailure(name, directory: directory, errno: failure)
    }
}

/// A stop signal that arrived during an atomic write, delivered again once the write is done; written only by the
/// signal handler, read after it is removed.
nonisolated(unsafe) private var deferredSignal: Int32 = 0

/// Writes every byte, retrying short writes and interrupts; returns the errno of a failure.
private func writeAll(_ data: Data, to descriptor: Int32) -> Int32? {
    data.withUnsafeBytes { bytes -> Int32? in
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                return errno
            }
            written += count
        }
        return nil
    }
}

private func writeFailure(_ path: String, directory: String, errno code: Int32) -> ClientError {
    let reason: String
    switch code {
    case ENOSPC:
        reason =
            "the disk is full (ENOSPC) — free space on the file system of \(directory), or write elsewhere with -o FILE"
    case EDQUOT:
        reason = "the disk quota is exhausted (EDQUOT) — free space in your quota, or write elsewhere with -o FILE"
    default:
        reason = String(cString: strerror(code))
    }
    return ClientError(.failure, "cannot write \(path): \(reason); nothing was written")
}
