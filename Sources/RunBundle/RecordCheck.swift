import Canonical
import Foundation
import WireTypes

/// What a bundle's record must mean, beyond its chains. A chain needs no key, so anyone can recompute one over
/// altered events; an import then writes the manifest's row into the queue and the events into the store, where
/// every reader trusts them. So the record is read for meaning as `BundleCheck` verifies it, and the manifest must
/// agree with it:
/// - every payload and metadata is a JSON object the database can hold (no `\u0000`), every type a plain name;
/// - the run's first event is a `RunSubmitted` that decodes, whose spec hash is its spec's and whose name is a name;
/// - the manifest's name, spec hash and final state are the record's, its numbers within the queue's ranges;
/// - tags and notes are what `e2h tag` and `e2h note` accept, metric names plain text.
/// A value type fed one event at a time, so a bundle of any size is checked in one pass and without I/O.
struct RecordCheck {
    private var submitted: RunSubmitted?
    private var ending = RecordEnding()

    /// An event of `events.jsonl`, in version order.
    mutating func accept(_ event: BundleEventLine) throws {
        try Self.plain(event, entry: BundleLayout.events)
        if event.version == 1 {
            submitted = try Self.submission(event)
        }
        ending.read(type: event.type)
    }

    /// The manifest's row against the record read so far (the whole of `events.jsonl`).
    func check(_ run: RunDetails) throws {
        guard let submitted else {
            throw Self.refusal("the run's first event is not its RunSubmitted")
        }
        if run.name != submitted.name || run.specHash != submitted.specHash {
            throw Self.refusal(
                "the manifest names the run \(Self.quoted(run.name)) with spec \(run.specHash.prefix(12)), but its "
                    + "RunSubmitted event says \(Self.quoted(submitted.name)) with spec \(submitted.specHash.prefix(12))"
            )
        }
        let recorded = ending.finalState
        let claimed: RunState? = run.state == .completed || run.state == .failed ? run.state : nil
        if claimed != recorded {
            throw Self.refusal(
                "the manifest says the run is \(run.state.rawValue), but its events "
                    + (recorded.map { "end it as \($0.rawValue)" } ?? "do not end it as \(run.state.rawValue)"))
        }
        if !RunPriority.range.contains(run.priority) || run.attempt < 0 || run.failures < 0
            || run.failures > run.attempt || run.maxAttempts < 1
        {
            throw Self.refusal(
                "the manifest's queue numbers are out of range (priority \(run.priority), attempt \(run.attempt), "
                    + "failures \(run.failures), max attempts \(run.maxAttempts)); a priority is within "
                    + "\(RunPriority.range.lowerBound)...\(RunPriority.range.upperBound), failures within 0...attempt, "
                    + "max attempts at least 1")
        }
        if let error = run.errors.first(where: { $0.utf8.contains(0) }) {
            throw Self.refusal("the manifest's error \(Self.quoted(error)) holds a NUL character")
        }
    }

    /// An event of `annotations.jsonl`: a tag change or a note, each as the daemon checks a request for one.
    static func annotation(_ event: BundleEventLine) throws {
        try plain(event, entry: BundleLayout.annotations)
        let payload = Data(event.payload.utf8)
        do throws(AnnotationError) {
            switch event.type {
            case AnnotationEvent.TagsChanged.eventType:
                guard let change = try? CanonicalJSON.decode(AnnotationEvent.TagsChanged.self, from: payload) else {
                    throw AnnotationError("its payload is not a tag change")
                }
                for tag in change.added + change.removed + change.tags { _ = try AnnotateRequest.tag(tag) }
            case AnnotationEvent.NoteAdded.eventType:
                guard let note = try? CanonicalJSON.decode(AnnotationEvent.NoteAdded.self, from: payload) else {
                    throw AnnotationError("its payload is not a note")
                }
                _ = try AnnotateRequest.note(note.text)
            default:
                throw AnnotationError("\(quoted(event.type)) is not an annotation")
            }
        } catch {
            throw refusal("annotation \(event.version) is not one e2h records: \(error.message)")
        }
    }

    static func metric(_ line: BundleMetricLine, number: Int) throws {
        guard !line.name.isEmpty, line.name.utf8.count <= 200,
            !line.name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            throw refusal("metric line \(number) is named \(quoted(line.name)), not a metric's plain name")
        }
    }

    // MARK: - Parts

    /// A type is a plain name; payload and metadata are JSON objects the database can store.
    private static func plain(_ event: BundleEventLine, entry: String) throws {
        guard !event.type.isEmpty, event.type.utf8.count <= 100,
            event.type.unicodeScalars.allSatisfy({
                $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0)
            })
        else {
            throw refusal(
                "\(entry) event \(event.version) has the type \(quoted(event.type)), not an event type's name")
        }
        for (part, text) in [("payload", event.payload), ("metadata", event.metadata)] {
            if let problem = objectProblem(text) {
                throw refusal("\(entry) event \(event.version)'s \(part) \(problem)")
            }
        }
    }

    private static func submission(_ event: BundleEventLine) throws -> RunSubmitted {
        guard event.type == DaemonEventType.submitted.rawValue,
            let submitted = try? CanonicalJSON.decode(RunSubmitted.self, from: Data(event.payload.utf8))
        else {
            throw refusal("the run's first event is \(quoted(event.type)), not a RunSubmitted that decodes")
        }
        if let problem = objectProblem(submitted.specJson) {
            throw refusal("the RunSubmitted event's spec \(problem)")
        }
        guard ContentHash.sha256Hex(Data(submitted.specJson.utf8)) == submitted.specHash else {
            throw refusal(
                "the RunSubmitted event's spec does not hash to its spec hash \(submitted.specHash.prefix(12))")
        }
        guard RunName.isValid(submitted.name) else {
            throw refusal("the RunSubmitted event names the run \(quoted(submitted.name)), but \(RunName.rule)")
        }
        return submitted
    }

    /// Why `text` is not a JSON object the database can store, or nil.
    private static func objectProblem(_ text: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)), object is [String: Any] else {
            return "is not a JSON object"
        }
        return holdsNUL(object) ? "holds a NUL character (\\u0000), which the database cannot store" : nil
    }

    private static func holdsNUL(_ value: Any) -> Bool {
        switch value {
        case let text as String: text.utf8.contains(0)
        case let array as [Any]: array.contains(where: holdsNUL)
        case let object as [String: Any]: object.contains { $0.key.utf8.contains(0) || holdsNUL($0.value) }
        default: false
        }
    }

    private static func quoted(_ text: String) -> String { String(text.prefix(80)).debugDescription }

    private static func refusal(_ reason: String) -> BundleError {
        BundleError(.malformed, "the bundle's record is not one e2h writes: \(reason); nothing was imported")
    }
}

/// How a run's record ends, read event by event: it is completed (failed) exactly when its last change of queue state
/// is `RunCompleted` (`RunFailed`). An export writes its manifest's state by this, and an import checks it.
public struct RecordEnding: Sendable {
    private var lastTransition: DaemonEventType?

    private static let transitions: Set<DaemonEventType> = [
        .claimed, .interrupted, .resumed, .cancelled, .failed, .completed,
    ]

    public init() {}

    public mutating func read(type: String) {
        if let type = DaemonEventType(rawValue: type), Self.transitions.contains(type) { lastTransition = type }
    }

    /// `.completed` or `.failed` when the record ends so, else nil (the run was live or stopped at this point).
    public var finalState: RunState? {
        switch lastTransition {
        case .completed?: .completed
        case .failed?: .failed
        default: nil
        }
    }

    /// The queue state of a run that is now in `state`, as of the record read so far: a run that completed or failed
    /// after it is shown as running there (and an import keeps such a run stopped, as it does any live one).
    public func state(now state: RunState) -> RunState {
        if let finalState { return finalState }
        return state == .completed || state == .failed ? .running : state
    }
}
