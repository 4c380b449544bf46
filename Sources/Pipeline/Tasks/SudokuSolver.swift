/// A 6×6 Sudoku grid (2×3 boxes) in row-major order: 36 cells, each 1–6, or 0 for a blank.
///
/// The solver keeps one bitmask of used digits per row, column and box and always branches on
/// the blank with the fewest candidates, which makes counting solutions of a 6×6 puzzle take
/// microseconds — fast enough to check uniqueness after every removal while generating.
struct SudokuGrid: Hashable, Sendable {
    static let side = 6
    static let cellCount = 36
    static let digits = 1...6

    var cells: [Int]

    init(cells: [Int]) {
        precondition(cells.count == Self.cellCount && cells.allSatisfy { (0...6).contains($0) })
        self.cells = cells
    }

    static func row(of cell: Int) -> Int { cell / side }
    static func column(of cell: Int) -> Int { cell % side }
    /// Boxes are 2 rows by 3 columns: three bands of two boxes.
    static func box(of cell: Int) -> Int { (row(of: cell) / 2) * 2 + column(of: cell) / 3 }

    var blankCount: Int { cells.filter { $0 == 0 }.count }

    /// The number of completions, counting no further than `limit` (2 answers "is it unique?").
    func solutionCount(limit: Int) -> Int {
        guard var search = Search(self) else { return 0 }
        var count = 0
        search.solve { _ in
            count += 1
            return count >= limit
        }
        return count
    }

    /// Every completion, in the order the search finds them.
    func solutions() -> [SudokuGrid] {
        guard var search = Search(self) else { return [] }
        var found: [SudokuGrid] = []
        search.solve { grid in
            found.append(grid)
            return false
        }
        return found
    }

    /// A random full grid: the search with candidates tried in random order.
    static func random(using random: inout some RandomNumberGenerator) -> SudokuGrid {
        var search = Search(SudokuGrid(cells: Array(repeating: 0, count: cellCount)))!
        var result: SudokuGrid?
        search.solve(
            order: { random.shuffled($0) },
            found: { grid in
                result = grid
                return true
            })
        return result!
    }

    /// The grid with its digits renamed so that the first row reads 1…6: two grids that differ
    /// only by a relabelling of the digits have the same canonical form.
    var canonical: SudokuGrid {
        var name = [Int](repeating: 0, count: 7)
        for column in 0..<Self.side where cells[column] != 0 { name[cells[column]] = column + 1 }
        return SudokuGrid(cells: cells.map { name[$0] })
    }

    /// The depth-first search over blanks; `nil` when the givens already break a rule.
    private struct Search {
        var cells: [Int]
        var rows = [Int](repeating: 0, count: SudokuGrid.side)
        var columns = [Int](repeating: 0, count: SudokuGrid.side)
        var boxes = [Int](repeating: 0, count: SudokuGrid.side)

        init?(_ grid: SudokuGrid) {
            cells = grid.cells
            for (cell, digit) in cells.enumerated() where digit != 0 {
                let bit = 1 << digit
                let (row, column, box) = (
                    SudokuGrid.row(of: cell), SudokuGrid.column(of: cell), SudokuGrid.box(of: cell)
                )
                if (rows[row] | columns[column] | boxes[box]) & bit != 0 { return nil }
                rows[row] |= bit
                columns[column] |= bit
                boxes[box] |= bit
            }
        }

        /// Calls `found` with each completion until it returns true; `order` arranges a cell's candidates.
        mutating func solve(order: ([Int]) -> [Int] = { $0 }, found: (SudokuGrid) -> Bool) {
            _ = descend(order: order, found: found)
        }

        private func candidates(_ cell: Int) -> Int {
            let used =
                rows[SudokuGrid.row(of: cell)] | columns[SudokuGrid.column(of: cell)] | boxes[SudokuGrid.box(of: cell)]
            return ~used & 0b111_1110
        }

        /// Returns true when the search should stop.
        private mutating func descend(order: ([Int]) -> [Int], found: (SudokuGrid) -> Bool) -> Bool {
            // The blank with the fewest candidates; a blank with none is a dead end.
            var best = -1
            var bestCount = Int.max
            for cell in 0..<SudokuGrid.cellCount where cells[cell] == 0 {
                let count = candidates(cell).nonzeroBitCount
                if count < bestCount {
                    best = cell
                    bestCount = count
                    if count <= 1 { break }
                }
            }
            if best < 0 { return found(SudokuGrid(cells: cells)) }
            let mask = candidates(best)
            let (row, column, box) = (SudokuGrid.row(of: best), SudokuGrid.column(of: best), SudokuGrid.box(of: best))
            for digit in order(SudokuGrid.digits.filter { mask & (1 << $0) != 0 }) {
                let bit = 1 << digit
                cells[best] = digit
                rows[row] |= bit
                columns[column] |= bit
                boxes[box] |= bit
                let stop = descend(order: order, found: found)
                cells[best] = 0
                rows[row] &= ~bit
                columns[column] &= ~bit
                boxes[box] &= ~bit
                if stop { return true }
            }
            return false
        }
    }
}
