import Foundation
import Synchronization
import Testing

/// The real `e2h` against a daemon that does not answer, and one that answers with a redirect.
@Suite("e2h against an odd daemon")
struct SlowDaemonTests {
    /// A request that waits costs next to no CPU, and ends at E2H_TIMEOUT with a message that says the daemon may
    /// have done what was asked. Over URLSession the client kept a core busy for as long as it waited (13 CPU-seconds
    /// in a 15-second wait), taking it from the runs it asked about.
    @Test func waitingForASilentDaemonCostsNoCPU() async throws {
        let listener = try CannedListener(answer: nil)
        defer { listener.close() }
        let client = try ChildProcess(
            try Harness.binDirectory + "/e2h", ["runs", "--url", "http://127.0.0.1:\(listener.port)", "--token", "t"],
            outputPath: try Harness.scratchDirectory() + "/silent.out", environment: ["E2H_TIMEOUT": "12"])
        try await Task.sleep(for: .seconds(8))
        let seconds = try FollowTests.cpuSeconds(of: client.pid)
        let status = await client.waitForExit(timeout: .seconds(60))
        if status == nil { client.signal(SIGKILL) }
        #expect(status == 3, "\(client.output)")
        #expect(client.output.contains("did not answer within 12 s (E2H_TIMEOUT)"), "\(client.output)")
        // Starting the client costs a fraction of this; a busy loop takes most of the 8 s even on a loaded machine.
        #expect(seconds < 1.5, "e2h used \(seconds) s of CPU in 8 s of waiting")
    }

    /// A redirect is not followed (it would take the token along): the user is told where it pointed.
    @Test func aRedirectIsNotFollowed() async throws {
        let listener = try CannedListener(
            answer: "HTTP/1.1 301 Moved Permanently\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\n"
                + "Connection: close\r\n\r\n")
        defer { listener.close() }
        let client = try ChildProcess(
            try Harness.binDirectory + "/e2h", ["runs", "--url", "http://127.0.0.1:\(listener.port)", "--token", "t"],
            outputPath: try Harness.scratchDirectory() + "/redirect.out")
        let status = await client.waitForExit(timeout: .seconds(60))
        if status == nil { client.signal(SIGKILL) }
        #expect(status == 2, "\(client.output)")
        #expect(
            client.output.contains("redirects to https://elsewhere.example/, and e2h follows no redirect"),
            "\(client.output)")
        #expect(listener.requests == 1)
    }
}

/// A loopback TCP port that either never answers (`answer` nil: connections wait in the kernel's backlog, never
/// accepted) or answers every request with the same bytes.
final class CannedListener: @unchecked Sendable {
    let port: Int
    private let socket: Int32
    private let served = Mutex(0)

    var requests: Int { served.withLock { $0 } }

    init(answer: String?) throws {
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && listen(descriptor, 16) == 0
                    && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard descriptor >= 0, bound else {
            throw E2EError("cannot listen on loopback: \(String(cString: strerror(errno)))")
        }
        socket = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        guard let answer else { return }
        let socket = socket
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(socket, nil, nil)
                guard connection >= 0 else { return }
                var buffer = [UInt8](repeating: 0, count: 65536)
                _ = read(connection, &buffer, buffer.count)
                self.served.withLock { $0 += 1 }
                _ = answer.utf8CString.withUnsafeBufferPointer { write(connection, $0.baseAddress, $0.count - 1) }
                Glibc.close(connection)
            }
        }
    }

    func close() {
        shutdown(socket, Int32(SHUT_RDWR))
        Glibc.close(socket)
    }
}
