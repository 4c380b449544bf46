/// One zero-initialized, 64-byte-aligned allocation of Floats. Parameters, gradients, each AdamW
/// moment and the activations each live in one arena (llm.c style), so the optimizer is one loop
/// and a checkpoint is one copy; kernels see views into it as plain pointers.
final class FloatArena {
    let count: Int
    let base: UnsafeMutablePointer<Float>

    init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
        base = raw.bindMemory(to: Float.self, capacity: max(1, count))
        base.initialize(repeating: 0, count: max(1, count))
    }

    deinit { base.deallocate() }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: base, count: count) }

    func zero() { base.update(repeating: 0, count: count) }

    func copy() -> FloatArena {
        let other = FloatArena(count: count)
        other.base.update(from: base, count: count)
        return other
    }
}

extension FloatArena {
    convenience init(copying values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: values.count) }
    }
}
