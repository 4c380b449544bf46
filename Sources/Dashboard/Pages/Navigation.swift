/// The links every signed-in page shows at its top.
enum Navigation {
    enum Section { case runs, compare, none }

    static func links(current: Section) -> [Page.Link] {
        [Page.Link(label: "Runs", path: "/", isCurrent: current == .runs)]
    }
}
