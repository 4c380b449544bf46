import Foundation

/// The one error type of e2h; `exitCode` is the contract scripts rely on: 1 failure, 2 usage or validation,
/// 3 daemon unreachable.
struct ClientError: Error, CustomStringConvertible {
    struct Code: Hashable, CustomStringConvertible {
        let rawValue: String
        let exitCode: Int32

        static let failure = Code(rawValue: "failure", exitCode: 1)
        static let usage = Code(rawValue: "usage", exitCode: 2)
        static let unreachable = Code(rawValue: "unreachable", exitCode: 3)

        var description: String { rawValue }
    }

    var code: Code
    var message: String
    var cause: (any Error)?

    init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    var description: String { message }
}
