#if canImport(Glibc)
import Glibc
#endif

/// The entry point that the fuzz targets share. Built with `-DFUZZING` and `-sanitize=fuzzer` (scripts/fuzz.sh),
/// it hands the target's callback to libFuzzer's driver; in an ordinary build it replays the inputs in the files
/// named on the command line, as libFuzzer does with a crash file, so that a finding can be reproduced under a
/// debugger.
public enum FuzzDriver {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    public static func main(_ callback: Callback) -> Never {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let bytes = read(path) else { print("\(path): cannot open"); continue }
            _ = bytes.withUnsafeBufferPointer { callback($0.baseAddress, $0.count) }
            print("\(path): \(bytes.count) bytes, no crash")
        }
        exit(0)
        #endif
    }

    /// A fuzzer's input as bytes.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    }

    private static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n <= 0 { return bytes }
            bytes += buffer[..<n]
        }
    }
}

#if FUZZING
/// libFuzzer's driver, run from our own entry point (SwiftPM names the executable's main itself).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif
