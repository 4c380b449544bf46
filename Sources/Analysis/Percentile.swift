/// Percentile intervals from resampled values.
enum Percentile {
    /// The central `confidence` interval of `values`: the (1 − c)/2 and (1 + c)/2 quantiles, each by linear
    /// interpolation between the order statistics around (count − 1)·p (Hyndman–Fan type 7, R's default).
    static func interval(_ values: [Double], confidence: Double = 0.95) -> (lower: Double, upper: Double) {
        let tail = (1 - confidence) / 2
        return (quantile(values, tail), quantile(values, 1 - tail))
    }

    static func quantile(_ values: [Double], _ p: Double) -> Double {
        precondition(!values.isEmpty)
        let position = Double(values.count - 1) * p
        let k = min(Int(position.rounded(.down)), values.count - 1)
        let fraction = position - Double(k)
        // A tail quantile needs only the few order statistics at its end: keep them in a bounded heap, one pass
        // over the values (this is compare's most frequent operation, twice per row and per difference).
        let fromTop = values.count - 1 - k
        let (low, high): (Double, Double)
        if k <= fromTop {
            let smallest = extremes(k + 2, of: values, sign: 1)
            (low, high) = (smallest[k], k + 1 < smallest.count ? smallest[k + 1] : smallest[k])
        } else {
            let largest = extremes(fromTop + 1, of: values, sign: -1)
            (low, high) = (-largest[fromTop], fromTop >= 1 ? -largest[fromTop - 1] : -largest[fromTop])
        }
        return fraction > 0 ? low + fraction * (high - low) : low
    }

    /// The `count` smallest of `sign · values`, ascending.
    private static func extremes(_ count: Int, of values: [Double], sign: Double) -> [Double] {
        let count = min(count, values.count)
        var heap: [Double] = []  // a max-heap of the smallest seen so far
        heap.reserveCapacity(count)
        for raw in values {
            let value = sign * raw
            if heap.count < count {
                heap.append(value)
                var child = heap.count - 1
                while child > 0, heap[(child - 1) / 2] < heap[child] {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if value < heap[0] {
                heap[0] = value
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    guard left < count else { break }
                    let larger = left + 1 < count && heap[left + 1] > heap[left] ? left + 1 : left
                    guard heap[larger] > heap[parent] else { break }
                    heap.swapAt(parent, larger)
                    parent = larger
                }
            }
        }
        return heap.sorted()
    }
}
