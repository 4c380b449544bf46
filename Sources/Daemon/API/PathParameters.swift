import Hummingbird

extension Parameters {
    /// A path parameter as the client meant it, percent escapes decoded: the router hands over the raw segment, so a
    /// run id from a client that escapes every segment (`0123abcd%2D…`) was "no run". An escape that does not decode
    /// to UTF-8 is a 400.
    func decoded(_ name: String) throws -> String {
        let raw = try require(name)
        guard let text = raw.removingPercentEncoding else {
            throw DaemonError(
                .badRequest,
                "the path's \(name) \(String(raw.prefix(80)).debugDescription) holds a percent escape that is not "
                    + "UTF-8; write the \(name) as e2h prints it")
        }
        return text
    }
}
