/// What the outbound HTTP settings refuse: a proxy variable that does not name a proxy this client can use.
public struct OutboundError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// A proxy variable's value is not `host:port` or `http://[user:password@]host[:port]`.
        public static let badProxy = Code(rawValue: "badProxy")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
