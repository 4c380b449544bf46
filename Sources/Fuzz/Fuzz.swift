import Foundation

/// `e2h-fuzz`: built by `scripts/fuzz` with `-sanitize=fuzzer,address -DFUZZING`, it is a libFuzzer binary for the
/// target named by `E2H_FUZZ_TARGET` (libFuzzer's own flags pass through). Built plainly, as SwiftPM builds it with
/// everything else, it replays inputs — files, or folders of them — through a target, so a crash the fuzzer found
/// can be reproduced in an ordinary debug build: `e2h-fuzz spec fuzz/crashes/...`.
@main
struct Fuzz {
    static func main() {
        #if FUZZING
        guard selected != nil else { fail("set E2H_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))") }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv, fuzzOneInput))
        #else
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name), arguments.count > 1 else {
            fail("usage: e2h-fuzz \(FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")) FILE-OR-FOLDER...")
        }
        var count = 0
        for path in arguments.dropFirst() {
            for file in inputs(at: path) {
                target.run(FileManager.default.contents(atPath: file) ?? Data())
                count += 1
            }
        }
        print("\(count) inputs ran through \(target.rawValue) without a crash")
        #endif
    }

    static func inputs(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { fail("no such file \(path)") }
        guard isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted().map { (path as NSString).appendingPathComponent($0) }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data(("e2h-fuzz: " + message + "\n").utf8))
        exit(2)
    }
}

#if FUZZING
/// The target of this process, from E2H_FUZZ_TARGET: libFuzzer calls a C function, which cannot capture it.
private let selected = ProcessInfo.processInfo.environment["E2H_FUZZ_TARGET"].flatMap(FuzzTarget.init(rawValue:))

/// libFuzzer's callback, under the name its own `main` also looks for (the runtime archive brings that `main`
/// along; whichever `main` runs, the inputs go through the same target).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let selected else { Fuzz.fail("set E2H_FUZZ_TARGET to one of \(FuzzTarget.allCases.map(\.rawValue))") }
    selected.run(data.map { Data(bytes: $0, count: size) } ?? Data())
    return 0
}

/// libFuzzer's entry for a program with its own `main` (compiler-rt, LLVM ≥ 11).
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32
#endif
