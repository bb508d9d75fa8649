import CSpawn
import Foundation

/// A child process started with posix_spawn: coturn for the demo, agents for the benchmarks, and every
/// process the tests start.
package struct ChildProcess {
    package let pid: pid_t
    private var done = false

    /// Starts `argv` (looked up in PATH) with stdin from /dev/null and stdout/stderr to files;
    /// `environment` adds to (or overrides) this process's environment.
    package init(_ argv: [String], stdout: String = "/dev/null", stderr: String = "/dev/null",
         environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // Nothing else of this process's: its sockets are not all close-on-exec (a coturn child held the
        // bench's blaster sockets, and the demo's status socket, until this).
        icestat_spawn_close_from(&actions, 3)
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
        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        var cEnv = env.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, &cArgs, &cEnv)
        guard rc == 0 else { throw SpawnError(program: argv[0], code: rc) }
        self.pid = pid
    }

    package mutating func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        done = true
        return status
    }

    /// The wait status if the child has ended (it is reaped then), nil while it runs.
    package mutating func endedStatus() -> Int32? {
        guard !done else { return 0 }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        done = true
        return status
    }

    package mutating func stop() {
        guard !done else { return }
        kill(pid, SIGTERM)
        _ = wait()
    }
}
