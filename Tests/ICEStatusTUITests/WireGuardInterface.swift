import ICETestSupport
import Foundation

/// A WireGuard interface made by wireguard-go inside a test's network namespace, with a tunnel address and
/// its own key pair. wireguard-go keeps its control socket in /var/run/wireguard, which every namespace
/// shares, so each interface gets a name no other namespace uses.
final class WireGuardInterface {
    let namespace: String
    let name: String
    let address: String
    let listenPort: Int
    let publicKey: String
    private let process: Harness.Child

    /// Why WireGuard interfaces cannot be made here, or nil when they can.
    static let unavailableReason: String? = {
        if let reason = NetworkNamespace.unavailableReason { return reason }
        for tool in ["wireguard-go", "wg", "ping", "iperf3"] where (try? Harness.run("sh", ["-c", "command -v \(tool)"], timeout: 5).status) != 0 {
            return "\(tool) is missing (scripts/test.sh installs wireguard-go, wireguard-tools, iputils-ping and iperf3)"
        }
        return FileManager.default.fileExists(atPath: "/dev/net/tun") ? nil : "/dev/net/tun is missing"
    }()

    /// wireguard-go in `namespace` on `address`/24, listening on UDP `listenPort`; its log goes to `directory`.
    init(namespace: String, address: String, listenPort: Int, directory: String) throws {
        self.namespace = namespace
        self.address = address
        self.listenPort = listenPort
        name = "wg" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10).lowercased()
        let keyFile = "\(directory)/\(name).key"
        publicKey = try Self.sh("umask 077 && wg genkey > \(keyFile) && wg pubkey < \(keyFile)").trimmingCharacters(in: .whitespacesAndNewlines)
        process = try Harness.Child(["ip", "netns", "exec", namespace, "wireguard-go", "-f", name],
                                    stdout: "\(directory)/\(name).log", stderr: "\(directory)/\(name).err")
        let up = eventuallyBlocking(seconds: 10) {
            FileManager.default.fileExists(atPath: "/var/run/wireguard/\(name).sock")
        }
        guard up else { throw Self.failure("wireguard-go did not make \(name) in \(namespace)") }
        try inside("wg set \(name) listen-port \(listenPort) private-key \(keyFile) && ip addr add \(address)/24 dev \(name) && ip link set \(name) mtu 1420 up")
    }

    /// Makes `other` this interface's one peer, reached at `endpoint` (for icestat, its local port for that peer).
    func peer(_ other: WireGuardInterface, endpoint: String) throws {
        try inside("wg set \(name) peer \(other.publicKey) endpoint \(endpoint) allowed-ips \(other.address)/32")
    }

    /// Runs a shell command in the interface's namespace; its stdout, or an error with its stderr.
    @discardableResult
    func inside(_ command: String, timeout: Double = 20) throws -> String {
        let r = try Harness.run("ip", ["netns", "exec", namespace, "sh", "-c", command], timeout: timeout)
        guard r.status == 0 else { throw Self.failure("\(namespace): \(command): \(r.stdout)\(r.stderr)") }
        return r.stdout
    }

    /// What `wg show` says of the interface (handshakes, transfer), for a failing test.
    var state: String { (try? inside("wg show \(name)")) ?? "" }

    private static func sh(_ command: String) throws -> String {
        let r = try Harness.run("sh", ["-c", command], timeout: 10)
        guard r.status == 0 else { throw failure("\(command): \(r.stderr)") }
        return r.stdout
    }

    private static func failure(_ text: String) -> NSError {
        NSError(domain: "wireguard", code: 1, userInfo: [NSLocalizedDescriptionKey: text])
    }

    deinit {
        process.terminate()
        process.wait(seconds: 5)
        _ = try? Harness.run("ip", ["netns", "exec", namespace, "ip", "link", "del", name], timeout: 5)
    }
}
