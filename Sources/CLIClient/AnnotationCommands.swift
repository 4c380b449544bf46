import ArgumentParser
import Foundation
import WireTypes

struct Tag: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add (+name) or remove (-name) tags of a run or a group.",
        discussion: """
            Tags live in an annotation stream of their own, so `verify` and `replay` of a run never see them. \
            `e2h runs --where tag:NAME` lists the runs with a tag.
            """)

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var target: String
    @Argument(parsing: .allUnrecognized, help: "+name to add, -name to remove (a bare name adds).")
    var changes: [String] = []
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            let request: AnnotateRequest
            do {
                request = try AnnotateRequest(tagArguments: changes)
            } catch let error as AnnotationError {
                throw ClientError(.usage, error.message)
            }
            try await Annotate(connection: connection, json: json).send(request, to: target)
        }
    }
}

struct Note: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add a note to a run or a group.")

    @Argument(help: ArgumentHelp(stringLiteral: RunOrGroup.help)) var target: String
    @Argument(help: "The note's text.") var text: String
    @OptionGroup var connection: ConnectionFlags
    @Flag(name: .customLong("json"), help: JSONOutput.help) var jsonFlag = false
    var json: Bool { JSONOutput.wanted(jsonFlag) }

    func run() async throws {
        try await E2H.guarded {
            try await Annotate(connection: connection, json: json).send(AnnotateRequest(note: text), to: target)
        }
    }
}

/// Sends an annotation to a run or a group and prints what it is annotated with afterwards.
struct Annotate {
    let connection: ConnectionFlags
    let json: Bool

    func send(_ request: AnnotateRequest, to target: String) async throws {
        let client = try connection.client()
        let annotations = try await RunOrGroup.dispatch(
            target,
            run: { try await client.post("v1/runs/\($0)/annotations", body: request, as: Annotations.self) },
            group: { try await client.post("v1/groups/\($0)/annotations", body: request, as: Annotations.self) })
        if json { return try printJSON(annotations) }
        print(AnnotationPrinter.lines(annotations).joined(separator: "\n"))
    }
}

enum AnnotationPrinter {
    /// `tags:` and one `note:` line per note, as `show` prints them.
    static func lines(_ annotations: Annotations) -> [String] {
        let formatter = ISO8601DateFormatter()
        return ["tags:       \(annotations.tags.isEmpty ? "-" : annotations.tags.joined(separator: ", "))"]
            + annotations.notes.map { "note:       \(formatter.string(from: $0.recordedAt))  \($0.text)" }
    }
}
