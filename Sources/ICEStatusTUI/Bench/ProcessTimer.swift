import Foundation

/// Times whole processes: spawn, run to exit, wall clock, output to a file or /dev/null.
enum ProcessTimer {
    /// Wall time in seconds of one run of `argv`, with stdout to `output`.
    static func time(_ argv: [String], output: String = "/dev/null") throws -> Double {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // The child starts with no blocked signals and default handlers, whatever thread spawns it
        // (dispatch worker threads block most signals, and a tmux server that inherits that mask cannot be stopped).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, environ)
        guard rc == 0 else { throw BenchError.spawn(argv[0], rc) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
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
    case spawn(String, Int32)
    case failed(String, Int32)

    var description: String {
        switch self {
        case .spawn(let p, let rc): "cannot start \(p): \(String(cString: strerror(rc)))"
        case .failed(let c, let s): "`\(c)` exited with status \(s)"
        }
    }
}
