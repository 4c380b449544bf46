import Foundation
import NeuralEngine

/// "AMD EPYC, 2 cores, AVX-512" — printed with every figure so results carry their machine.
enum MachineDescription {
    static var current: String {
        let cpu = CPUDescription.current
        return "\(cpu.model), \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu.widestVector)"
    }
}
