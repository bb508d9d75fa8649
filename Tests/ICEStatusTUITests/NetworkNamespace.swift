import ICETestSupport
import Foundation

/// A network namespace made by a test (`ip netns add`), deleted with everything in it when released.
/// Processes started in it through `wrap` see only its own interfaces, loopback included.
final class NetworkNamespace {
    let name: String

    /// Why namespaces cannot be made here, or nil when they can (root, with iproute2 and iptables).
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "network namespaces need root" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/iptables"] where !FileManager.default.isExecutableFile(atPath: tool) {
            if !FileManager.default.isExecutableFile(atPath: tool.replacingOccurrences(of: "/usr/sbin", with: "/sbin")) {
                return "\(tool) is missing (scripts/test.sh installs iproute2 and iptables)"
            }
        }
        let probe = "icestat-probe-\(getpid())"
        let made = (try? Harness.run("ip", ["netns", "add", probe], timeout: 10).status) == 0
        _ = try? Harness.run("ip", ["netns", "del", probe], timeout: 10)
        return made ? nil : "`ip netns add` is not permitted here"
    }()

    /// A namespace named `icestat-LABEL-XXXXXX`.
    convenience init(_ label: String) throws {
        try self.init(name: "icestat-\(label)-\(UUID().uuidString.prefix(6))")
    }

    /// A namespace with exactly this name, its loopback up.
    init(name: String) throws {
        self.name = name
        try run(["ip", "netns", "add", name])
        try exec(["ip", "link", "set", "lo", "up"])
    }

    /// argv run inside the namespace.
    func wrap(_ argv: [String]) -> [String] { ["ip", "netns", "exec", name] + argv }

    /// Runs a command inside the namespace; throws when it fails.
    @discardableResult
    func exec(_ argv: [String]) throws -> Harness.Result { try run(wrap(argv)) }

    /// Runs a shell command line inside the namespace; its stdout, or an error with its stderr.
    @discardableResult
    func sh(_ command: String) throws -> String { try exec(["sh", "-c", command]).stdout }

    @discardableResult
    private func run(_ argv: [String]) throws -> Harness.Result {
        let r = try Harness.run(argv[0], Array(argv.dropFirst()), timeout: 20)
        guard r.status == 0 else {
            throw NSError(domain: "netns", code: Int(r.status),
                          userInfo: [NSLocalizedDescriptionKey: "\(name): \(argv.joined(separator: " ")): \(r.stderr)"])
        }
        return r
    }

    /// Waits until a UDP (or TCP) port listens inside the namespace.
    func waitForListener(port: Int, udp: Bool = true, seconds: Double = 10) -> Bool {
        eventuallyBlocking(seconds: seconds) {
            ((try? sh("ss -H\(udp ? "u" : "t")ln 'sport = :\(port)'")) ?? "").contains(":\(port)")
        }
    }

    /// coturn in the namespace, on `ip:port`, relaying from `ip`, with the static user icestat/secret; its
    /// (verbose) log goes to `log`. Returns once it is ready to allocate.
    /// coturn on `ip`: UDP and TCP on `port`, and with `tls` (certificate, key) TLS on 5349 too.
    func startCoturn(ip: String, port: Int, relayPorts: ClosedRange<Int>, realm: String, log: String,
                     extraArguments: [String] = [], tls: (certificate: String, key: String)? = nil) throws -> Harness.Child {
        let tlsArguments = tls.map { ["--tls-listening-port", "5349", "--cert", $0.certificate, "--pkey", $0.key] } ?? ["--no-tls"]
        let child = try Harness.Child(wrap([
            "turnserver", "-n", "--listening-ip", ip, "--listening-port", "\(port)", "--relay-ip", ip,
            "--min-port", "\(relayPorts.lowerBound)", "--max-port", "\(relayPorts.upperBound)"] + tlsArguments + ["--no-dtls",
            "--no-cli", "--log-file", "stdout", "--lt-cred-mech", "--user", "icestat:secret", "--realm", realm,
            "--fingerprint", "--no-multicast-peers", "--verbose"] + extraArguments), stdout: log)
        // Listening is not enough: an Allocate needs every relay thread, and coturn logs their count once all exist.
        let threadsUp = eventuallyBlocking(seconds: 10) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Total General servers")
        }
        guard threadsUp, waitForListener(port: port) else {
            kill(child.pid, SIGKILL)
            throw NSError(domain: "netns", code: 1, userInfo: [NSLocalizedDescriptionKey: "coturn did not start in \(name)"])
        }
        return child
    }

    /// Kills whatever still runs inside a namespace, then deletes it.
    static func delete(named name: String) {
        if let pids = try? Harness.run("ip", ["netns", "pids", name], timeout: 5).stdout {
            for pid in pids.split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? Harness.run("ip", ["netns", "del", name], timeout: 10)
    }

    deinit { Self.delete(named: name) }
}
