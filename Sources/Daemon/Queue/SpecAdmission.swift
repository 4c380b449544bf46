import Pipeline

/// The daemon's per-run limits, applied to a spec before anything is queued: a spec whose least memory or compute
/// (`ResourceEstimate`) exceeds them is refused with the estimate and what to change, instead of failing a worker
/// hours later or running for ever.
struct SpecAdmission {
    let settings: DaemonSettings

    func check(_ spec: ExperimentSpec, member: String? = nil) throws {
        let estimate = ResourceEstimate(spec)
        guard
            let refusal = estimate.refusal(
                maximumMemoryBytes: settings.maximumRunMemoryBytes, maximumSeconds: settings.maximumRunSeconds)
        else { return }
        throw DaemonError(
            .invalidSpec,
            "the spec \(spec.name)\(member.map { " (\($0))" } ?? "") is too large for this daemon: "
                + refusal + "; nothing was queued")
    }
}
