// EventStore: filled by its issue.
