import Canonical
import EventStore
import Foundation
import RunBundle
import WireTypes

/// What an annotation is about: a run or a group, each with an annotation stream of its own.
enum AnnotationTarget {
    case run(String)
    case group(String)

    var stream: String {
        switch self {
        case .run(let id): RunStreams.annotations(id)
        case .group(let id): "annotations-group-\(id)"
        }
    }
}

/// Tags and notes: appended to the target's annotation stream, the tag set recomputed from the last `TagsChanged`
/// inside the same transaction, which appends at the version it read, so concurrent taggers never lose a change.
struct RunAnnotations {
    let queue: Queue

    func annotate(_ target: AnnotationTarget, _ asked: AnnotateRequest) async throws -> Annotations {
        let request: AnnotateRequest
        do {
            request = try asked.validated()
        } catch {
            throw DaemonError(.badRequest, error.message)
        }
        let stream = target.stream
        // Not `idempotentTransaction`: a re-run after a lost COMMIT would record the note twice.
        try await queue.store.transaction { tx in
            let head = try tx.streamHead(stream)
            var events: [NewEvent] = []
            if !request.add.isEmpty || !request.remove.isEmpty {
                let current = try Self.currentTags(tx, stream: stream)
                let tags = Set(current).union(request.add).subtracting(request.remove).sorted()
                events.append(
                    NewEvent(
                        type: AnnotationEvent.TagsChanged.eventType,
                        payload: try CanonicalJSON.encode(
                            AnnotationEvent.TagsChanged(added: request.add, removed: request.remove, tags: tags))))
            }
            if let note = request.note {
                events.append(
                    NewEvent(
                        type: AnnotationEvent.NoteAdded.eventType,
                        payload: try CanonicalJSON.encode(AnnotationEvent.NoteAdded(text: note))))
            }
            _ = try tx.append(
                stream: stream, expectedVersion: head.map { .exact($0.version) } ?? .noStream, events: events)
        }
        return try await annotations(of: target)
    }

    func annotations(of target: AnnotationTarget) async throws -> Annotations {
        var annotations = Annotations()
        for event in try await queue.store.readWhole(stream: target.stream) {
            switch event.type {
            case AnnotationEvent.TagsChanged.eventType:
                annotations.tags = try CanonicalJSON.decode(AnnotationEvent.TagsChanged.self, from: event.payload).tags
            case AnnotationEvent.NoteAdded.eventType:
                let note = try CanonicalJSON.decode(AnnotationEvent.NoteAdded.self, from: event.payload)
                annotations.notes.append(Annotations.Note(text: note.text, recordedAt: event.recordedAt))
            default:
                throw DaemonError(.internalError, "the annotation stream \(target.stream) has a \(event.type) event")
            }
        }
        return annotations
    }

    private static func currentTags(_ tx: Transaction, stream: String) throws -> [String] {
        guard let latest = try tx.latest(stream: stream, type: AnnotationEvent.TagsChanged.eventType) else { return [] }
        return try CanonicalJSON.decode(AnnotationEvent.TagsChanged.self, from: latest.payload).tags
    }
}
