import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A webhook receiver inside the test process: an HTTP/1.1 server on 127.0.0.1 that answers every request as told
/// and keeps what it received. A thread per connection, so a slow answer holds up only its own.
public final class HookReceiver: @unchecked Sendable {
    public struct Received: Sendable {
        /// Lowercased names.
        public var headers: [String: String]
        public var body: Data
        /// The request line's method and target (a path; a whole URL or host:port when asked as a proxy).
        public var method: String
        public var path: String
    }

    /// How the receiver answers.
    public enum Answer: Sendable {
        /// 200 with an empty body.
        case ok
        /// 302 to `location`.
        case redirect(location: String)
        /// 200 with a 1,000-byte body, the whole answer (its head too) sent a byte a second: never idle, never done.
        case trickle
        /// As an HTTP proxy: a CONNECT is answered 200 and its connection becomes the tunnel, whose request is kept
        /// too and answered 200 (`received` holds the CONNECT, then what came through it).
        case tunnel
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let port: Int
    private let answer: Answer
    private let listener: Int32
    private let lock = NSLock()
    private var kept: [Received] = []

    public var received: [Received] { lock.withLock { kept } }

    /// A loopback port held for a receiver that starts later: bound but not listening, so a connection to it is
    /// refused, as by a receiver that is down, and no other socket can take the port meanwhile. A free port looked
    /// up and given back was once taken before the receiver listened on it ("cannot listen on 127.0.0.1:…").
    public struct Reservation: @unchecked Sendable {
        fileprivate let socket: Int32
        public let port: Int
    }

    public static func reserve() throws -> Reservation {
        let (socket, port) = try bound(port: 0)
        return Reservation(socket: socket, port: port)
    }

    /// Listens on `port` (0: any free one, then `port` says which).
    public convenience init(port: Int, answer: Answer = .ok) throws {
        let (socket, port) = try Self.bound(port: port)
        try self.init(reservation: Reservation(socket: socket, port: port), answer: answer)
    }

    /// Listens on the reserved port.
    public init(reservation: Reservation, answer: Answer = .ok) throws {
        guard Glibc.listen(reservation.socket, 16) == 0 else {
            close(reservation.socket)
            throw Failure(description: "cannot listen on 127.0.0.1:\(reservation.port)")
        }
        self.answer = answer
        (listener, port) = (reservation.socket, reservation.port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Stops accepting; the accept loop ends.
    public func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// A socket bound to `port` on loopback (0: any free one), not yet listening.
    private static func bound(port: Int) throws -> (socket: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(fd)
            throw Failure(description: "cannot bind 127.0.0.1:\(port)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread { [self] in serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        let request = Self.read(connection)
        if let request { lock.withLock { kept.append(request) } }
        func write(_ text: String) -> Bool {
            text.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) } >= 0
        }
        switch answer {
        case .ok: _ = write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        case .tunnel:
            guard request?.method == "CONNECT", write("HTTP/1.1 200 Connection established\r\n\r\n"),
                let tunnelled = Self.read(connection)
            else { return }
            lock.withLock { kept.append(tunnelled) }
            _ = write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        case .redirect(let location):
            _ = write("HTTP/1.1 302 Found\r\nLocation: \(location)\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        case .trickle:
            let answer = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
            for byte in answer + String(repeating: "x", count: 1000) {
                guard write(String(byte)) else { return }
                Thread.sleep(forTimeInterval: 1)
            }
        }
    }

    /// Headers up to the blank line, then Content-Length bytes of body.
    private static func read(_ connection: Int32) -> Received? {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        let separator = Data("\r\n\r\n".utf8)
        while true {
            if let end = data.range(of: separator) {
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                var headers: [String: String] = [:]
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2 {
                        headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces)
                    }
                }
                let length = Int(headers["content-length"] ?? "0") ?? 0
                while data.count - end.upperBound < length {
                    let count = recv(connection, &buffer, buffer.count, 0)
                    guard count > 0 else { return nil }
                    data.append(contentsOf: buffer[0..<count])
                }
                let line = head.split(separator: "\r\n").first?.split(separator: " ").map(String.init) ?? []
                return Received(
                    headers: headers, body: data[end.upperBound..<end.upperBound + length],
                    method: line.first ?? "", path: line.dropFirst().first ?? "")
            }
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else { return nil }
            data.append(contentsOf: buffer[0..<count])
        }
    }
}
