import Foundation
import ICEStatusTUI
import ProcessSpawning

/// Times whole processes: spawn, run to exit, wall clock, output to a file or /dev/null.
enum ProcessTimer {
    /// Wall time in seconds of one run of `argv`, with stdout to `output`.
    static func time(_ argv: [String], output: String = "/dev/null") throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        var child = try ChildProcess(argv, stdout: output)
        let status = child.wait()
        let end = DispatchTime.now().uptimeNanoseconds
        guard status == 0 else { throw BenchError.failed(argv.joined(separator: " "), status) }
        return Double(end - start) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// This executable's path.
    static var selfPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

enum BenchError: Error, CustomStringConvertible {
    case failed(String, Int32)
    case missing(String)

    var description: String {
        switch self {
        case .failed(let c, let s): "`\(c)` exited with status \(s)"
        case .missing(let what): "the bench needs \(what)"
        }
    }
}

extension Duration {
    /// The duration in seconds, with its fraction.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
