/// The mark drawn at a series' points, so lines stay distinguishable without colour (in print, for a
/// colour-blind reader). There is one more shape than colours, so colour and shape repeat together only
/// after 56 series; the eighth series, the first whose colour repeats (the first's), gets the shape least like the
/// first's circle (a hexagon there was hard to tell from it at 6 px).
enum MarkerShape: CaseIterable {
    case circle, square, triangleUp, diamond, triangleDown, plus, hexagon, cross

    static func forSeries(_ index: Int) -> MarkerShape {
        allCases[index % allCases.count]
    }

    /// Path data for the marker centred on (x, y), `radius` about half its width.
    func path(x: Double, y: Double, radius r: Double) -> String {
        switch self {
        case .circle:
            let c = DecimalText.coordinate
            return "M\(c(x - r)),\(c(y))a\(c(r)),\(c(r)) 0 1 0 \(c(2 * r)),0a\(c(r)),\(c(r)) 0 1 0 \(c(-2 * r)),0Z"
        case .square:
            return polygon(x, y, r * 0.9, [(-1, -1), (1, -1), (1, 1), (-1, 1)])
        case .triangleUp:
            return polygon(x, y, r * 1.2, [(0, -1), (0.95, 0.75), (-0.95, 0.75)])
        case .triangleDown:
            return polygon(x, y, r * 1.2, [(0, 1), (0.95, -0.75), (-0.95, -0.75)])
        case .diamond:
            return polygon(x, y, r * 1.25, [(0, -1), (1, 0), (0, 1), (-1, 0)])
        case .plus:
            let t = 0.36
            return polygon(
                x, y, r * 1.2,
                [
                    (-t, -1), (t, -1), (t, -t), (1, -t), (1, t), (t, t), (t, 1), (-t, 1), (-t, t), (-1, t), (-1, -t),
                    (-t, -t),
                ])
        case .cross:
            let t = 0.28
            return polygon(
                x, y, r * 1.2,
                [
                    (0, -2 * t), (1 - t, -1), (1, -1 + t), (2 * t, 0), (1, 1 - t), (1 - t, 1), (0, 2 * t),
                    (-1 + t, 1), (-1, 1 - t), (-2 * t, 0), (-1, -1 + t), (-1 + t, -1),
                ])
        case .hexagon:
            return polygon(x, y, r * 1.1, [(0, -1), (0.87, -0.5), (0.87, 0.5), (0, 1), (-0.87, 0.5), (-0.87, -0.5)])
        }
    }

    private func polygon(_ x: Double, _ y: Double, _ scale: Double, _ corners: [(Double, Double)]) -> String {
        let c = DecimalText.coordinate
        var path = ""
        for (index, corner) in corners.enumerated() {
            path += (index == 0 ? "M" : "L") + c(x + corner.0 * scale) + "," + c(y + corner.1 * scale)
        }
        return path + "Z"
    }
}
