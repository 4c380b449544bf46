/// `load` over `items` with at most `width` in flight, the results in the items' order. Each of compare's reads
/// waits mostly on the database and its decoding on one core, so overlapping a few shortens a group's compare on
/// every machine; the benchmark of compare's server time loads through the same function.
public func loadInOrder<Item: Sendable, Loaded: Sendable>(
    _ items: [Item], width: Int = 4, _ load: @escaping @Sendable (Item) async throws -> Loaded
) async throws -> [Loaded] {
    try await withThrowingTaskGroup(of: (Int, Loaded).self) { group in
        var loaded = [Loaded?](repeating: nil, count: items.count)
        var next = 0
        func start() {
            guard next < items.count else { return }
            let (index, item) = (next, items[next])
            group.addTask { (index, try await load(item)) }
            next += 1
        }
        for _ in 0..<max(width, 1) { start() }
        while let (index, value) = try await group.next() {
            loaded[index] = value
            start()
        }
        return loaded.compactMap { $0 }
    }
}
