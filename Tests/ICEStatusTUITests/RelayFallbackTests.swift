import ICETestSupport
import Foundation
import Testing

/// Relay fallback between two `icestat up` agents and back, with a real coturn, inside a network namespace
/// whose loopback the test firewalls: the agents use 127.0.0.2 and 127.0.0.3 as host addresses, coturn and
/// the signal server 127.0.0.1, and iptables drops what goes directly between the two agents.
@Suite("Relay fallback", .serialized, .timeLimit(.minutes(2)),
       .enabled(if: NetworkNamespace.unavailableReason == nil, "\(NetworkNamespace.unavailableReason ?? "")"))
struct RelayFallbackTests {
    @Test func directBlockedGivesRelayedWithAReasonThenP2PWhenUnblocked() throws {
        let ns = try NetworkNamespace("relay")
        // The whole of 127/8 is local; the agents' host candidates need these addresses on an interface.
        for address in ["127.0.0.2/8", "127.0.0.3/8"] { try ns.exec(["ip", "addr", "add", address, "dev", "lo"]) }
        let mesh = try MeshFixture(netns: ns.name)
        let turnPort = mesh.signalPort - 1
        let coturn = try ns.startCoturn(ip: "127.0.0.1", port: turnPort, relayPorts: 49152...49352, realm: "icestat.test",
                                        log: mesh.directory + "/coturn.log", extraArguments: ["--allow-loopback-peers"])
        defer { kill(coturn.pid, SIGKILL); coturn.wait(seconds: 5) }
        let turn = "turn:\n  - {url: \"turn:127.0.0.1:\(turnPort)?transport=udp\", username: icestat, password: secret}"
        let ice = "{addresses: [%@], consent_interval: 1s, disconnected_timeout: 3s, failed_timeout: 6s, relay_nomination_delay: 1s}"
        try mesh.configure(["ann", "bob"], lazy: false, extra: [
            "ann": turn, "bob": turn,
            "ice-ann": ice.replacingOccurrences(of: "%@", with: "127.0.0.2"),
            "ice-bob": ice.replacingOccurrences(of: "%@", with: "127.0.0.3"),
        ])
        let block = [["-s", "127.0.0.2", "-d", "127.0.0.3"], ["-s", "127.0.0.3", "-d", "127.0.0.2"]]
        for rule in block { try ns.exec(["iptables", "-A", "INPUT"] + rule + ["-j", "DROP"]) }
        try mesh.startSignal()
        try mesh.startAgent("ann")
        try mesh.startAgent("bob")
        let both = [("ann", "bob"), ("bob", "ann")]
        #expect(eventuallyBlocking(seconds: 20) {
            both.allSatisfy { mesh.status($0.0, $0.1) == "Connected" && mesh.peers($0.0)[$0.1]?["connectionType"] as? String == "Relayed" }
        }, "\(mesh.dump())")
        let reasons = both.compactMap { mesh.peers($0.0)[$0.1]?["reason"] as? String }
        #expect(reasons.count == 2 && reasons.allSatisfy { $0.hasPrefix("direct checks timed out, relayed") }, "\(reasons)")
        // The side that decides retries the direct path and says when: the reason counts down to it, and the
        // relay fallback is logged with the first backoff.
        #expect(reasons.contains { $0.contains("; next direct attempt in ") }, "\(reasons)")
        let fallbacks = both.flatMap { (mesh.peers($0.0)[$0.1]?["events"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "relay-fallback" } }
        #expect(fallbacks.contains { $0["message"] as? String == "relayed; next direct attempt in 3 s" }, "\(fallbacks)")
        #expect(both.contains { mesh.peers($0.0)[$0.1]?["nextRetryAt"] is String })
        // icestat ping shows the relayed path; --until-direct cannot get a direct one while it is blocked.
        let annSocket = mesh.agents["ann"]!.socket
        let relayedPing = try Harness.icestat(["ping", "bob", "-c", "2", "--interval", "200", "--socket", annSocket], timeout: 15)
        #expect(relayedPing.status == 0 && relayedPing.stdout.components(separatedBy: " (relayed) in ").count == 3, "\(relayedPing)")
        #expect(relayedPing.stdout.contains("--- bob ping ---\n2 sent, 2 received, 0% lost\nrtt min/avg/max = "), "\(relayedPing)")
        let stuck = try Harness.icestat(["ping", "bob", "--until-direct", "-c", "3", "--interval", "300", "--socket", annSocket], timeout: 15)
        #expect(stuck.status == 1 && stuck.stdout.hasSuffix("direct connection not established\n"), "\(stuck)")

        for rule in block { try ns.exec(["iptables", "-D", "INPUT"] + rule + ["-j", "DROP"]) }
        // Unblocked: --until-direct goes on until a pong takes the direct path, and only then exits 0.
        let direct = try Harness.icestat(["ping", "bob", "--until-direct", "-c", "40", "--interval", "300", "--socket", annSocket], timeout: 20)
        #expect(direct.status == 0 && direct.stdout.contains(" (direct) in "), "\(direct)")
        #expect(!direct.stdout.contains("direct connection not established"), "\(direct)")
        #expect(eventuallyBlocking(seconds: 15) {
            both.allSatisfy { mesh.peers($0.0)[$0.1]?["connectionType"] as? String == "P2P" }
        }, "\(mesh.dump())")
        let peer = mesh.peers("ann")["bob"]
        #expect(peer?["status"] as? String == "Connected")
        #expect(peer?["reason"] as? String == nil)
        let local = (peer?["iceCandidateEndpoint"] as? [String: Any])?["local"] as? String
        #expect(local?.hasPrefix("127.0.0.2:") == true, "\(String(describing: local))")

        // A clean stop deletes the agent's TURN allocations (Refresh with LIFETIME 0) before it exits.
        let refreshesBefore = mesh.log("coturn").components(separatedBy: "REFRESH processed, success").count
        mesh.kill("ann", signal: SIGTERM)
        #expect(mesh.log("ann").hasSuffix("icestat up: stopped\n"))
        #expect(eventuallyBlocking(seconds: 3) {
            mesh.log("coturn").components(separatedBy: "REFRESH processed, success").count > refreshesBefore
        }, "\(mesh.log("coturn").suffix(3000))")
    }
}
