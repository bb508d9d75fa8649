import Foundation
import ICEStatusTUI
import ProcessSpawning

/// A PostgreSQL server of its own, for `icestat bench signal` and the signal-cluster tests: `initdb` in a fresh
/// temporary directory, then `pg_ctl` on 127.0.0.1 and a free port, with trust authentication (loopback only)
/// and fsync off. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user that Debian's
/// package creates (through `runuser`). ``remove()`` (or deinit) stops it and deletes the directory.
final class ThrowawayPostgres {
    let directory: String
    let port: Int
    /// The database URL for `icestat signal --cluster`.
    var url: String { "postgres://icestat@127.0.0.1:\(port)/postgres" }
    private let bin: String
    private let asOwner: [String]
    private var removed = false

    init() throws {
        guard let bin = Self.binDirectory() else { throw BenchError.missing("PostgreSQL's server programs (Debian: apt install postgresql)") }
        self.bin = bin
        var template = Array((NSTemporaryDirectory() + "icestat-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError.missing("a temporary directory") }
        directory = String(cString: made)
        if getuid() == 0 {
            guard let owner = getpwnam("postgres") else { throw BenchError.missing("the `postgres` user (Debian's postgresql package creates it)") }
            chown(directory, owner.pointee.pw_uid, owner.pointee.pw_gid)
            asOwner = ["runuser", "-u", "postgres", "--"]
        } else {
            asOwner = []
        }
        port = try Self.freePort()
        try run([bin + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", "icestat", "-E", "UTF8", "--no-sync"], "initdb")
        try start()
    }

    /// Starts the server (again, after ``stop()``) and waits until it accepts connections.
    func start() throws {
        let options = "-k \(directory) -p \(port) -h 127.0.0.1 -c fsync=off -c max_connections=100"
        try run([bin + "/pg_ctl", "-D", directory + "/data", "-o", options, "-l", directory + "/server.log", "-w", "-t", "30", "start"], "pg_ctl start")
    }

    /// Stops the server: `fast` closes every session at once; `immediate` is a crash.
    func stop(mode: String = "fast") throws {
        try run([bin + "/pg_ctl", "-D", directory + "/data", "-m", mode, "-w", "-t", "30", "stop"], "pg_ctl stop")
    }

    /// Sends `signal` to the server and every process it started: `SIGSTOP` leaves each connection open but
    /// unanswered (a database that hangs rather than going away), `SIGCONT` resumes them.
    func signalServer(_ signal: Int32) throws {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
              let line = text.split(separator: "\n").first, let postmaster = Int32(line) else {
            throw BenchError.missing("the server's postmaster.pid")
        }
        let children = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After "pid (comm) state ppid ...": the fields past the command's closing parenthesis.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == postmaster ? pid : nil
        } ?? []
        kill(postmaster, signal)
        for child in children { kill(child, signal) }
    }

    func remove() {
        guard !removed else { return }
        removed = true
        try? signalServer(SIGCONT) // a stopped server would not stop
        try? stop(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { remove() }

    private func run(_ argv: [String], _ what: String) throws {
        let output = directory + "/" + what.replacingOccurrences(of: " ", with: "-")
        var child = try ChildProcess(asOwner + argv, stdout: output + ".out", stderr: output + ".err")
        let raw = child.wait()
        guard raw == 0 else {
            let err = (try? String(contentsOfFile: output + ".err", encoding: .utf8)) ?? ""
            throw BenchError.failed("\(what): \(err.trimmingCharacters(in: .whitespacesAndNewlines))", (raw >> 8) & 0xFF)
        }
    }

    /// The newest installed server's programs: Debian keeps them under /usr/lib/postgresql/VERSION/bin.
    private static func binDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .filter { FileManager.default.isExecutableFile(atPath: "\(root)/\($0)/bin/initdb") }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        if let newest = versions.last { return "\(root)/\(newest)/bin" }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(dir)/initdb") { return String(dir) }
        return nil
    }

    /// A TCP port on 127.0.0.1 that is free now (bound to port 0, read back, released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard ok else { throw BenchError.missing("a free TCP port on 127.0.0.1") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
