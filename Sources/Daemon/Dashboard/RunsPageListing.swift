import Dashboard
import WireTypes

extension RunCatalog {
    /// The runs page's list (and its live table's): its filters evaluated by PostgreSQL, newest first, at most
    /// `RunsPage.limit`.
    func list(_ filter: RunsPage.Filter) async throws -> [RunDetails] {
        func given(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        return try await list(
            state: filter.state, limit: RunsPage.limit, groupPrefix: given(filter.group), tag: given(filter.tag),
            text: given(filter.text))
    }
}
