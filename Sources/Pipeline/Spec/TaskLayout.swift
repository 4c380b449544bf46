/// Constants shared by every task family's sequence layout.
enum TaskLayout {
    /// Every problem has this many step slots; a level decides how many of them are non-trivial.
    static let slots = 10
}
