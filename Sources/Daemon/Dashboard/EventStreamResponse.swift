import Hummingbird

extension Response {
    /// A `text/event-stream` answer with `body`: never cached (each reader follows its own state), and never read
    /// as anything but events.
    static func eventStream(_ body: ResponseBody) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                .init("X-Content-Type-Options")!: "nosniff",
            ], body: body)
    }
}
