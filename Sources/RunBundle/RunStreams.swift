/// The names of a run's streams in the event store: the one definition that the queue, the annotations and the
/// bundle (which carries both) share.
public enum RunStreams {
    /// The run's record: the daemon's events and the pipeline's.
    public static func run(_ id: String) -> String { "run-\(id)" }

    /// A run's annotation stream is this prefix and the run's id: what SQL joins on.
    public static let annotationPrefix = "annotations-run-"

    /// The run's tags and notes, a hash chain of their own.
    public static func annotations(_ id: String) -> String { annotationPrefix + id }
}
