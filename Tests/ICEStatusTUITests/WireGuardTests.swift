import Foundation
import Testing

/// Real WireGuard (wireguard-go) over icestat, as a mesh VPN runs it: each host's WireGuard endpoint for its
/// peer is icestat's local port for that peer, and icestat's service for the peer is WireGuard's listen port.
/// The peers are lazy, so WireGuard's first packet (the handshake carrying the first ping) wakes them.
@Suite("WireGuard over icestat", .serialized, .timeLimit(.minutes(3)),
       .enabled(if: WireGuardInterface.unavailableReason == nil, "\(WireGuardInterface.unavailableReason ?? "")"))
struct WireGuardTests {
    @Test func twoHostsOnOneLANPingAndTransferThroughTheTunnelDirectly() throws {
        let s = try LabScenario()
        let hosts = try s.lab.addSite("a", nat: .portRestricted, hosts: 2)
        try s.startCoturn()
        try s.configure([("a1", hosts[0]), ("a2", hosts[1])], turn: true, lazy: true)
        try s.start(["a1", "a2"])
        try tunnel(s, ("a1", hosts[0]), ("a2", hosts[1]), type: "P2P")
    }

    @Test func acrossPortRestrictedNATsTheTunnelRunsDirect() throws {
        let s = try LabScenario()
        let (a, b) = try s.startPair(.portRestricted, .portRestricted, lazy: true)
        try tunnel(s, ("a1", a), ("b1", b), type: "P2P")
    }

    @Test func acrossSymmetricNATsTheTunnelRunsThroughTheTURNRelay() throws {
        let s = try LabScenario()
        let (a, b) = try s.startPair(.symmetric, .symmetric, lazy: true)
        try tunnel(s, ("a1", a), ("b1", b), type: "Relayed")
        #expect(s.mesh.log("coturn").contains("CHANNEL_BIND processed, success"))
    }

    /// WireGuard on both hosts over the two agents; asserts that both peers start Idle, that one ping
    /// (the first packet) wakes them and is answered, that the path is `type`, and that 8 MiB sent over TCP
    /// through the tunnel arrive whole.
    private func tunnel(_ s: LabScenario, _ a: (agent: String, host: String), _ b: (agent: String, host: String), type: String) throws {
        #expect(s.mesh.waitAll([(a.agent, b.agent), (b.agent, a.agent)], "Idle", seconds: 10), "\(s.explanation)")
        let wgA = try WireGuardInterface(namespace: a.host, address: "10.99.0.1", listenPort: s.mesh.servicePort(a.agent, b.agent),
                                         directory: s.mesh.directory)
        let wgB = try WireGuardInterface(namespace: b.host, address: "10.99.0.2", listenPort: s.mesh.servicePort(b.agent, a.agent),
                                         directory: s.mesh.directory)
        try wgA.peer(wgB, endpoint: "127.0.0.1:\(s.mesh.port(a.agent, b.agent))")
        try wgB.peer(wgA, endpoint: "127.0.0.1:\(s.mesh.port(b.agent, a.agent))")
        #expect(s.peer(a.agent, b.agent)["status"] as? String == "Idle", "nothing was sent yet, so nothing woke the peer")

        // Exactly one echo request: WireGuard holds it until its handshake, which icestat keeps while connecting.
        let started = Date()
        let ping = try Harness.run("ip", ["netns", "exec", a.host, "ping", "-n", "-c", "1", "-W", "40", wgB.address], timeout: 45)
        let wake = Date().timeIntervalSince(started)
        #expect(ping.status == 0 && ping.stdout.contains("1 received"), "\(ping.stdout)\(ping.stderr)\n\(wgA.state)\n\(wgB.state)\n\(s.explanation)")
        #expect(s.connected(a.agent, b.agent, type: type), "\(s.explanation)")

        // A TCP transfer through the tunnel: the receiver's byte count and SHA-256 are the sender's.
        let out = s.mesh.directory + "/receiver.out"
        let receiver = try Harness.Child(s.lab.wrap(b.host, ["python3", "-c", """
            import hashlib, socket
            server = socket.create_server(("\(wgB.address)", 5201)); server.settimeout(30)
            conn, _ = server.accept(); conn.settimeout(30); digest = hashlib.sha256(); total = 0
            while chunk := conn.recv(65536): digest.update(chunk); total += len(chunk)
            print(total, digest.hexdigest(), flush=True)
            """]), stdout: out)
        #expect(s.lab.namespace(b.host).waitForListener(port: 5201, udp: false), "the receiver did not listen")
        let sent = Date()
        let sender = try Harness.run("ip", ["netns", "exec", a.host, "python3", "-c", """
            import hashlib, random, socket
            data = random.Random(17).randbytes(8 << 20)
            s = socket.create_connection(("\(wgB.address)", 5201), timeout=30); s.sendall(data); s.shutdown(socket.SHUT_WR)
            s.recv(1); print(len(data), hashlib.sha256(data).hexdigest())
            """], timeout: 60)
        #expect(receiver.wait(seconds: 60) == 0)
        let seconds = Date().timeIntervalSince(sent)
        let heard = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        #expect(sender.status == 0 && !sender.stdout.isEmpty && heard == sender.stdout,
                "sent \(sender.stdout)\(sender.stderr), received \(heard)\n\(wgA.state)\n\(wgB.state)\n\(s.explanation)")
        LabScenario.report(String(format: "WireGuard over icestat, %@: first ping answered after %.2f s, 8 MiB over TCP in %.2f s",
                                  type, wake, seconds))
    }
}
