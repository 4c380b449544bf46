extension SpecGroup {
    /// Whether the spec carries a `sweep:` block, so that `e2h submit` queues it as a group; a spec that does not
    /// parse as YAML is not one (its submission reports the error).
    public static func hasSweep(yaml: String, file: String) -> Bool {
        guard let document = try? ExperimentSpec.readDocument(yaml, file: file),
            case .mapping(let pairs) = document.value
        else { return false }
        return pairs.contains { $0.key.scalarText == "sweep" }
    }
}
