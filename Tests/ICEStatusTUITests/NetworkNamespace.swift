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

    init(_ label: String) throws {
        name = "icestat-\(label)-\(UUID().uuidString.prefix(6))"
        try run(["ip", "netns", "add", name])
        try exec(["ip", "link", "set", "lo", "up"])
    }

    /// argv run inside the namespace.
    func wrap(_ argv: [String]) -> [String] { ["ip", "netns", "exec", name] + argv }

    /// Runs a command inside the namespace; throws when it fails.
    @discardableResult
    func exec(_ argv: [String]) throws -> Harness.Result { try run(wrap(argv)) }

    @discardableResult
    private func run(_ argv: [String]) throws -> Harness.Result {
        let r = try Harness.run(argv[0], Array(argv.dropFirst()), timeout: 15)
        guard r.status == 0 else {
            throw NSError(domain: "netns", code: Int(r.status),
                          userInfo: [NSLocalizedDescriptionKey: "\(argv.joined(separator: " ")): \(r.stderr)"])
        }
        return r
    }

    /// Waits until a UDP port listens inside the namespace.
    func waitForUDP(port: Int, seconds: Double) -> Bool {
        Harness.eventually(seconds: seconds) {
            ((try? Harness.run("ip", ["netns", "exec", name, "ss", "-Huln", "sport = :\(port)"], timeout: 5).stdout) ?? "").contains(":\(port)")
        }
    }

    deinit {
        // Kill whatever still runs inside, then delete.
        if let pids = try? Harness.run("ip", ["netns", "pids", name], timeout: 5).stdout {
            for pid in pids.split(separator: "\n").compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? Harness.run("ip", ["netns", "del", name], timeout: 10)
    }
}
