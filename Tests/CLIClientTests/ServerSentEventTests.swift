import Foundation
import Testing
import WireTypes

@Test func framesAreReadBackWhateverTheChunking() {
    let messages = [
        ServerSentEvent(event: "run-event", id: "7", data: #"{"a":"é"}"#),
        ServerSentEvent(data: "two\nlines"),
        ServerSentEvent(event: "run", data: ""),
    ]
    // A message without a data line is dropped, as the format says; so is a comment.
    let text =
        messages[0].frame + "event: nothing\n\n" + ServerSentEvent.keepAliveFrame + messages[1...].map(\.frame).joined()
    let bytes = Array(text.utf8)
    var whole = ServerSentEventReader()
    #expect(whole.read(bytes) == messages)
    // One byte at a time: lines and the two-byte "é" split everywhere.
    var bytewise = ServerSentEventReader()
    #expect(bytes.flatMap { bytewise.read([$0]) } == messages)
}

@Test func aLineBreakInAFieldCannotStartAnother() {
    let frame = ServerSentEvent(event: "run\nid: 9", id: "1\r\nevent: x", data: "d\rdata: in\r\njected\n").frame
    var reader = ServerSentEventReader()
    let read = reader.read(Array(frame.utf8))
    #expect(read == [ServerSentEvent(event: "runid: 9", id: "1event: x", data: "d\ndata: in\njected\n")])
}

@Test func carriageReturnLineEndsCommentsAndUnknownFieldsAreRead() {
    var reader = ServerSentEventReader()
    let text = ": comment\r\nretry: 10\r\nevent:run\r\ndata\r\ndata: x\r\r\n"
    #expect(reader.read(Array(text.utf8)) == [ServerSentEvent(event: "run", data: "\nx")])
}

@Test func runStreamMessagesRoundTripAndUnknownKindsAreSkipped() throws {
    let event = WireEvent(
        position: 3, version: 2, id: UUID(), type: "StageStarted", schemaVersion: 1,
        payload: .object(["stage": .string("sft")]), metadata: .object([:]),
        recordedAt: Date(timeIntervalSince1970: 1_800_000_000), hash: String(repeating: "c", count: 64))
    let message = RunStreamMessage.event(event)
    let sent = try message.serverSentEvent
    #expect(sent.id == "2" && sent.event == RunStreamMessage.eventName)
    var reader = ServerSentEventReader()
    let received = reader.read(Array(sent.frame.utf8))
    #expect(try received.map { try RunStreamMessage($0) } == [message])
    #expect(try RunStreamMessage(ServerSentEvent(event: "newer-kind", data: "{}")) == nil)
}
