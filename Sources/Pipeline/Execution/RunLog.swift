import Foundation
import NeuralEngine
import WireTypes

/// The executor's view of a run's record: it replays history and appends what is new.
///
/// While the cursor is inside history, emitted events are compared with the recorded ones (a
/// mismatch is a divergence) instead of being appended again, so a resumed run's record equals
/// an uninterrupted run's. `CheckpointSaved` events taken for a stop exist only in interrupted
/// records; the comparison steps over them.
final class RunLog {
    static let pipelineTypes: Set<String> = [
        StageStarted.eventType, StageCompleted.eventType, DatasetSplitCreated.eventType, CheckpointSaved.eventType,
        SamplesGenerated.eventType, EvaluatorTrained.eventType, ScoreRecorded.eventType,
    ]

    let recorder: any RunRecorder
    private let history: [PipelineEvent]
    private(set) var cursor = 0
    /// Events appended by this execution, after the whole history.
    private var appended: [PipelineEvent] = []

    init(recorder: any RunRecorder) async throws {
        self.recorder = recorder
        do {
            history = try await recorder.history().filter { Self.pipelineTypes.contains($0.type) }
        } catch {
            throw PipelineError(code: .recording, message: "could not read the run's history", cause: error)
        }
    }

    /// True once every recorded event has been replayed: new events are appended from here on.
    var isLive: Bool {
        skipInterruptCheckpoints()
        return cursor >= history.count
    }

    func emit(_ payload: some EventPayload, volatile: [String: VolatileFact] = [:]) async throws {
        try await emit([payload.event(volatile: volatile)])
    }

    func emit(_ events: [PipelineEvent]) async throws {
        var fresh: [PipelineEvent] = []
        for event in events {
            skipInterruptCheckpoints()
            if cursor < history.count {
                let recorded = history[cursor]
                guard recorded.type == event.type, recorded.payload == event.payload else {
                    throw PipelineError(
                        code: .divergence,
                        message: """
                            event \(cursor + 1) differs from the recorded one: recorded \(recorded.type) \
                            \(String(decoding: recorded.payload.prefix(300), as: UTF8.self)), regenerated \(event.type) \
                            \(String(decoding: event.payload.prefix(300), as: UTF8.self)) — the run's code or inputs changed
                            """)
                }
                cursor += 1
            } else {
                fresh.append(event)
            }
        }
        guard !fresh.isEmpty else { return }
        do {
            try await recorder.append(fresh)
            appended += fresh
        } catch {
            throw PipelineError(code: .recording, message: "could not append \(fresh.count) event(s)", cause: error)
        }
    }

    /// Appends a stop checkpoint. Only called when live: history is never rewritten in the middle.
    func appendInterruptCheckpoint(_ payload: CheckpointSaved) async throws {
        precondition(isLive && payload.reason == .interrupt)
        do {
            try await recorder.append([payload.event()])
            appended.append(payload.event())
        } catch {
            throw PipelineError(code: .recording, message: "could not append the stop checkpoint", cause: error)
        }
    }

    /// The run's events up to the cursor, then those this execution appended: the record as it
    /// stands at this point of the (re-)execution.
    func eventsSoFar() -> [PipelineEvent] { Array(history.prefix(cursor)) + appended }

    /// The recorded completion of `stage`, if any, at or after the cursor.
    func recordedCompletion(of stage: StageName) throws -> (index: Int, event: StageCompleted)? {
        for index in cursor..<history.count where history[index].type == StageCompleted.eventType {
            let completed = try StageCompleted(decoding: history[index])
            if completed.stage == stage { return (index, completed) }
        }
        return nil
    }

    /// The latest checkpoint of `model` in `stage` recorded at or after the cursor and before the
    /// stage's next start: where an interrupted training loop resumes.
    func latestCheckpoint(stage: StageName, model: String) throws -> (index: Int, event: CheckpointSaved)? {
        var found: (Int, CheckpointSaved)?
        for index in cursor..<history.count {
            let event = history[index]
            if event.type == StageStarted.eventType { break }
            guard event.type == CheckpointSaved.eventType else { continue }
            let checkpoint = try CheckpointSaved(decoding: event)
            if checkpoint.stage == stage && checkpoint.model == model { found = (index, checkpoint) }
        }
        return found
    }

    /// The recorded `EvaluatorTrained` of evaluator `name` at or after the cursor and before the next stage's start,
    /// with the blob of test scores its execution noted: a resume reuses the trained evaluator instead of training
    /// and scoring it again. Nil when it is not recorded, or was recorded before scores were noted.
    func recordedEvaluator(named name: String) throws -> (index: Int, event: EvaluatorTrained, testScores: String)? {
        for index in cursor..<history.count {
            let event = history[index]
            if event.type == StageStarted.eventType || event.type == StageCompleted.eventType { break }
            guard event.type == EvaluatorTrained.eventType else { continue }
            let trained = try EvaluatorTrained(decoding: event)
            guard trained.name == name else { return nil }
            let facts = try? JSONDecoder().decode([String: VolatileFact].self, from: event.volatile)
            guard case .text(let scores) = facts?[EvaluatorTrained.testScoresFact] else { return nil }
            return (index, trained, scores)
        }
        return nil
    }

    /// The recorded event at the cursor, if it is a `P` that `matches` accepts: lets a stage reuse
    /// recorded work (a sample chunk's blob) instead of recomputing it. Does not move the cursor.
    func upcoming<P: EventPayload>(_ type: P.Type, matching matches: (P) -> Bool) throws -> P? {
        skipInterruptCheckpoints()
        guard cursor < history.count, history[cursor].type == P.eventType else { return nil }
        let payload = try P(decoding: history[cursor])
        return matches(payload) ? payload : nil
    }

    /// Moves past recorded events a stage does not regenerate (those before a restored checkpoint,
    /// or a whole completed stage).
    func skip(through index: Int) {
        precondition(index >= cursor - 1 && index < history.count)
        cursor = index + 1
    }

    private func skipInterruptCheckpoints() {
        while cursor < history.count,
            CheckpointSaved.isInterrupt(type: history[cursor].type, payload: history[cursor].payload)
        {
            cursor += 1
        }
    }

    func putBlob(_ bytes: Data) async throws -> String {
        do {
            return try await recorder.putBlob(bytes)
        } catch {
            throw PipelineError(
                code: .recording, message: "could not store a blob of \(bytes.count) bytes", cause: error)
        }
    }

    func blob(_ hash: String) async throws -> Data {
        do {
            return try await recorder.blob(hash)
        } catch {
            throw PipelineError(
                code: .corruptHistory, message: "the recorded blob \(hash) cannot be read — the run cannot resume",
                cause: error)
        }
    }

    /// How a model was recorded: bare weights (evaluators, trained generators) or a whole training checkpoint.
    enum ModelRecord {
        case weights
        case checkpoint
    }

    /// The model recorded in blob `hash`; a blob that does not decode is `corruptHistory` naming `what`.
    func model(_ hash: String, recordedAs record: ModelRecord, what: String) async throws -> Transformer {
        let data = try await blob(hash)
        do {
            switch record {
            case .weights: return try Transformer(weights: data)
            case .checkpoint: return try TrainingCheckpoint(decoding: data).makeModel()
            }
        } catch {
            throw PipelineError(code: .corruptHistory, message: "\(what) does not load", cause: error)
        }
    }

    func recordMetrics(_ points: [TrainingMetric]) async throws {
        guard !points.isEmpty else { return }
        do {
            try await recorder.recordMetrics(points)
        } catch {
            throw PipelineError(
                code: .recording, message: "could not record \(points.count) metric points", cause: error)
        }
    }

    /// The recorder's stop request, honored only when live (stopping mid-replay would append
    /// a checkpoint before recorded events).
    func stopRequested() async -> StopReason? {
        guard isLive else { return nil }
        return await recorder.stopRequested()
    }
}
