import ICETestSupport
import Foundation
import Testing

/// `icestat signal` and several `icestat up` agents as separate processes on loopback.
@Suite("Mesh agent", .serialized, .timeLimit(.minutes(3)))
struct MeshAgentTests {
    static let names = ["ann", "bob", "cat"]
    var allPairs: [(String, String)] { Self.names.flatMap { a in Self.names.filter { $0 != a }.map { (a, $0) } } }

    @Test func threeEagerAgentsConnectCarryDataAndSurviveASignalRestart() throws {
        let mesh = try MeshFixture()
        try mesh.configure(Self.names, lazy: false)
        try mesh.startSignal()
        for name in Self.names { try mesh.startAgent(name) }
        #expect(mesh.waitAll(allPairs, "Connected", seconds: 15), "\(mesh.dump())")
        let peer = mesh.peers("ann")["bob"]
        #expect(peer?["connectionType"] as? String == "P2P")
        #expect((peer?["iceCandidateType"] as? [String: Any])?["local"] as? String == "host")

        // A datagram to ann's port for bob reaches bob's service for ann; its reply comes back to the sender.
        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("bob", "ann"))
        app.send("ping 1", to: mesh.port("ann", "bob"))
        let got = service.receive(seconds: 5)
        #expect(got?.0 == "ping 1" && got?.1 == mesh.port("bob", "ann"), "\(mesh.dump())")
        service.send("pong 1", to: mesh.port("bob", "ann"))
        #expect(app.receive(seconds: 5)?.0 == "pong 1")
        #expect(eventuallyBlocking(seconds: 3) { (mesh.peers("ann")["bob"]?["transferSent"] as? Int ?? 0) >= 6 })

        // The signal server goes away: connections stay up, the agents say the signal is down.
        mesh.stopSignal()
        Thread.sleep(forTimeInterval: 1)
        #expect(mesh.waitAll(allPairs, "Connected", seconds: 1))
        // Back: the agents re-register, and a restarted agent connects again through it.
        try mesh.startSignal()
        mesh.kill("cat")
        try mesh.startAgent("cat")
        #expect(mesh.waitAll(allPairs, "Connected", seconds: 15), "\(mesh.dump())")
        #expect(mesh.log("ann").components(separatedBy: "registered with").count - 1 == 2)
    }

    @Test func anAgentWithNoAddressForHostCandidatesSaysWhy() throws {
        let mesh = try MeshFixture()
        // 192.0.2.99 (TEST-NET-1) is on no interface here: nothing may become a host candidate.
        try mesh.configure(["ann", "bob"], lazy: true, ice: "{addresses: [192.0.2.99]}")
        try mesh.startSignal()
        try mesh.startAgent("ann")
        #expect(eventuallyBlocking(seconds: 5) { mesh.log("ann").contains("no local address may be a host candidate (interfaces wt*, utun*, wg*, ts*, tailscale*, zt*, docker*, veth*, br-*, virbr*, tun*, tap* are left out unless ice.interfaces or ice.addresses names them): peers can be reached only through a TURN relay") },
                "\(mesh.log("ann"))")
    }

    @Test func lazyPeersStayIdleUntilTrafficThenGoIdleAgainOnBothSides() throws {
        let mesh = try MeshFixture()
        try mesh.configure(Self.names, lazy: true, inactivity: "2s")
        try mesh.startSignal()
        for name in Self.names { try mesh.startAgent(name) }
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["bob"]?["reason"] as? String == "lazy: idle until traffic" }, "\(mesh.dump())")
        Thread.sleep(forTimeInterval: 1)
        #expect(allPairs.allSatisfy { mesh.status($0.0, $0.1) == "Idle" }, "\(mesh.dump())")

        // The first datagrams start the connection and are delivered once it is up, in order, none lost.
        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("cat", "ann"))
        for i in 1...3 { app.send("early \(i)", to: mesh.port("ann", "cat")) }
        let received = (1...3).compactMap { _ in service.receive(seconds: 5)?.0 }
        #expect(received == ["early 1", "early 2", "early 3"], "\(mesh.dump())")
        #expect(mesh.status("ann", "cat") == "Connected" && mesh.status("cat", "ann") == "Connected")
        // Only that pair woke up.
        #expect(mesh.status("ann", "bob") == "Idle" && mesh.status("bob", "cat") == "Idle")

        // No traffic for 2 s: Idle again on both sides, each with its reason, and the port listens again.
        #expect(eventuallyBlocking(seconds: 8) { mesh.status("ann", "cat") == "Idle" && mesh.status("cat", "ann") == "Idle" }, "\(mesh.dump())")
        let reasons = Set([mesh.peers("ann")["cat"]?["reason"] as? String, mesh.peers("cat")["ann"]?["reason"] as? String])
        #expect(reasons.contains("lazy: idle after 2 s without traffic"), "\(reasons)")
        // ann's log tells the story in order: woken by traffic, connected, idle again for want of it.
        let story = (mesh.peers("ann")["cat"]?["events"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
        let wake = story.firstIndex(of: "lazy: traffic arrived, connecting") ?? .max
        let connected = story.firstIndex(of: "Connecting → Connected") ?? .max
        let idle = story.firstIndex { $0.hasPrefix("Connected → Idle: lazy: idle after 2 s without traffic") || $0 == "Connected → Idle: remote went idle" } ?? .max
        #expect(wake < connected && connected < idle && idle < .max, "\(story)")
        app.send("again", to: mesh.port("ann", "cat"))
        #expect(service.receive(seconds: 5)?.0 == "again", "\(mesh.dump())")
    }

    @Test func eventsFollowPrintsAPeersStateChangesAsTheyHappen() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob"], lazy: false)
        try mesh.startSignal()
        try mesh.startAgent("ann")
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["bob"]?["reasonCode"] as? String == "remote-offline" }, "\(mesh.dump())")
        let out = NSTemporaryDirectory() + "icestat-follow-\(UUID().uuidString)"
        defer { unlink(out) }
        let follow = try Harness.Child([Harness.binary, "events", "--follow", "--json", "--peer", "bob", "--count", "0",
                                        "--socket", mesh.agents["ann"]!.socket], stdout: out)
        func lines() -> [[String: Any]] {
            let text = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
        Thread.sleep(forTimeInterval: 0.5)
        try mesh.startAgent("bob")
        #expect(eventuallyBlocking(seconds: 15) { lines().contains { $0["to"] as? String == "Connected" } }, "\(lines()) \(mesh.dump())")
        // Only bob's events, each a JSON line, in the order they happened: Connecting, a path, Connected. The
        // selected pair may change again once connected (a better pair nominated after the first), so a later
        // path line is allowed; the states are exactly these two.
        let got = lines()
        #expect(got.allSatisfy { $0["peer"] as? String == "bob" }, "\(got)")
        let kinds = got.map { "\($0["kind"] as? String ?? "?") \($0["to"] as? String ?? "")" }
        #expect(kinds.filter { $0.hasPrefix("state ") } == ["state Connecting", "state Connected"], "\(kinds)")
        let firstPath = kinds.firstIndex(of: "path "), connected = kinds.firstIndex(of: "state Connected")
        #expect(kinds.first == "state Connecting" && firstPath != nil && connected != nil && firstPath! < connected!, "\(kinds)")
        // bob leaves: Idle, and why.
        mesh.kill("bob", signal: SIGTERM)
        #expect(eventuallyBlocking(seconds: 5) {
            lines().contains { $0["to"] as? String == "Idle" && ["remote-idle", "remote-offline"].contains($0["reasonCode"] as? String ?? "") }
        }, "\(lines())")
        // The agent stops: the follower says so and exits 1.
        mesh.kill("ann", signal: SIGTERM)
        #expect(follow.wait(seconds: 5) == 1)
    }

    @Test func pingWakesALazyPeerAndSaysWhenOneIsOfflineOrUnknown() throws {
        let mesh = try MeshFixture()
        try mesh.configure(Self.names, lazy: true)
        try mesh.startSignal()
        try mesh.startAgent("ann")
        try mesh.startAgent("cat")
        let socket = mesh.agents["ann"]!.socket
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["cat"]?["reasonCode"] as? String == "lazy-until-traffic" }, "\(mesh.dump())")
        let r = try Harness.icestat(["ping", "cat", "-c", "2", "--interval", "100", "--socket", socket], timeout: 30)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(r.status == 0 && lines.count == 6, "\(r)")
        #expect(lines.first?.range(of: #"^cat was Idle: woken, connected in \d+ ms$"#, options: .regularExpression) != nil, "\(r)")
        for line in lines[1...2] {
            #expect(line.range(of: #"^pong from cat via (host|prflx) 127\.0\.0\.1:\d+ \(direct\) in \d+\.\d{3} ms$"#, options: .regularExpression) != nil, "\(line)")
        }
        #expect(Array(lines[3...4]) == ["--- cat ping ---", "2 sent, 2 received, 0% lost"], "\(r)")
        #expect(lines[5].range(of: #"^rtt min/avg/max = \d+\.\d{3}/\d+\.\d{3}/\d+\.\d{3} ms$"#, options: .regularExpression) != nil, "\(r)")
        // The wake-up is logged as traffic's would be.
        let story = (mesh.peers("ann")["cat"]?["events"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
        #expect(story.contains("lazy-wake"), "\(story)")
        // bob never started: offline. zed is no peer at all.
        let offline = try Harness.icestat(["ping", "bob", "--socket", socket], timeout: 10)
        #expect(offline.status == 1 && offline.stderr == "icestat: bob is offline: it is not on the signal server\n", "\(offline)")
        let unknown = try Harness.icestat(["ping", "zed", "--socket", socket], timeout: 10)
        #expect(unknown.status == 1 && unknown.stderr == "icestat: no peer named zed\n" && unknown.stdout.isEmpty, "\(unknown)")
    }

    /// A signal server and two eager agents, ann and bob, connected to each other.
    func connectedAnnAndBob() throws -> MeshFixture {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob"], lazy: false)
        try mesh.startSignal()
        try mesh.startAgent("ann")
        try mesh.startAgent("bob")
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
        return mesh
    }

    @Test func aKilledAgentShowsAwayAndReconnectsWhenBack() throws {
        let mesh = try connectedAnnAndBob()
        let start = Date()
        mesh.kill("bob")
        // Within the consent timeout (3 s here): the signal server sees the connection drop at once.
        #expect(eventuallyBlocking(seconds: 3) { mesh.status("ann", "bob") == "Idle" }, "\(mesh.dump())")
        #expect(Date().timeIntervalSince(start) < 3.5)
        #expect(mesh.peers("ann")["bob"]?["reason"] as? String == "remote offline")
        try mesh.startAgent("bob")
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
    }

    @Test func aStoppedAgentTellsItsPeersAndRemovesItsSocket() throws {
        let mesh = try connectedAnnAndBob()
        mesh.kill("bob", signal: SIGTERM)
        #expect(mesh.log("bob").hasSuffix("icestat up: stopped\n"), "\(mesh.log("bob"))")
        #expect(!FileManager.default.fileExists(atPath: mesh.agents["bob"]!.socket))
        #expect(eventuallyBlocking(seconds: 2) { mesh.status("ann", "bob") == "Idle" })
        #expect(["remote went idle", "remote offline"].contains(mesh.peers("ann")["bob"]?["reason"] as? String ?? ""))
    }

    @Test func datagramsForAnAwayPeerAreCountedAsDroppedWithTheirReason() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob"], lazy: true, inactivity: "15m")
        try mesh.startSignal()
        try mesh.startAgent("ann")
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["bob"]?["reason"] as? String == "remote offline" })
        // bob is away: ann does not try, and each datagram is dropped for want of a path. Every one is accounted
        // for, none lost silently.
        let app = try UDPProbe()
        for i in 0..<261 { app.send("datagram \(i)", to: mesh.port("ann", "bob")) }
        func drops() -> [String: Any] { mesh.peers("ann")["bob"]?["droppedDatagrams"] as? [String: Any] ?? [:] }
        #expect(eventuallyBlocking(seconds: 5) { drops()["total"] as? Int == 261 }, "\(mesh.dump())")
        let reasons = drops()["reasons"] as? [String: Int] ?? [:]
        #expect(reasons == ["no-path": 261], "\(reasons)")
        #expect(mesh.status("ann", "bob") == "Idle" && mesh.peers("ann")["bob"]?["reasonCode"] as? String == "remote-offline")
        let detail = try Harness.icestat(["--detail", "--socket", mesh.agents["ann"]!.socket])
        #expect(detail.stdout.contains("Dropped datagrams: 261 ("), "\(detail.stdout)")
    }

    @Test func garbageAtTheSignalServerClosesOnlyThatConnection() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob"], lazy: true, inactivity: "15m")
        try mesh.startSignal()
        try mesh.startAgent("ann")
        try mesh.startAgent("bob")
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["bob"]?["reason"] as? String == "lazy: idle until traffic" })
        // A malformed frame, an oversized one, and a frame before registering, each on its own connection.
        let r = try Harness.run("python3", ["-c", """
            import socket, struct
            for payload in [b"\\x00\\x00\\x00\\x03\\x63\\x01\\x02", struct.pack(">I", 1 << 20), b"\\x00\\x00\\x00\\x02\\x07\\x00"]:
                s = socket.create_connection(("127.0.0.1", \(mesh.signalPort)), timeout=5)
                s.sendall(payload)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk: break
                    data += chunk
                print(data[5:].decode(errors="replace"))
            """], timeout: 20)
        #expect(r.stdout == "malformed frame: unknown frame type\noversized frame: 1048576 bytes (limit 16384)\nmalformed frame: truncated key\n", "\(r.stdout)\(r.stderr)")
        let log = mesh.log("signal")
        #expect(log.contains("closed: malformed frame: unknown frame type") && log.contains("closed: oversized frame: 1048576 bytes"))
        // The agents never noticed: the first datagram still connects them.
        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("bob", "ann"))
        app.send("still here", to: mesh.port("ann", "bob"))
        #expect(service.receive(seconds: 5)?.0 == "still here", "\(mesh.dump())")
        #expect(!mesh.log("ann").contains("connection closed"))
    }

    @Test func badConfigsFailAtStartNamingTheField() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob"], lazy: false)
        let path = mesh.agents["ann"]!.config
        let good = try String(contentsOfFile: path, encoding: .utf8)
        let cases: [(String, String)] = [
            (good.replacingOccurrences(of: "signal: 127.0.0.1:\(mesh.signalPort)", with: "signal: nowhere"), "signal: expected HOST:PORT, got 'nowhere'"),
            (good.replacingOccurrences(of: "lazy: false", with: "lazy: maybe"), "lazy: expected true or false"),
            (good.replacingOccurrences(of: "key_file: ann.key", with: "key_file: missing.key"), "key_file: cannot read"),
            (good.replacingOccurrences(of: "public_key: \(mesh.agents["bob"]!.publicKey)", with: "public_key: c2hvcnQ="), "peers[0].public_key: not a base64 32-byte key"),
            (good.replacingOccurrences(of: "consent_interval: 1s", with: "consent_interval: soon"), "ice.consent_interval: expected a duration like 50ms, 6s or 2m, got 'soon'"),
            (good.replacingOccurrences(of: "peers:", with: "peerz:"), "peers: missing"),
            (String(good[..<good.range(of: "peers:")!.lowerBound]) + "peers: 5\n", "peers: expected a list"),
            (good.replacingOccurrences(of: "peers:", with: "routed_networks: [10.100.0.0/33]\npeers:"),
             "routed_networks[0]: expected a network like 10.100.0.0/16 or fd00::/8, got '10.100.0.0/33'"),
            (good.replacingOccurrences(of: "consent_interval: 1s", with: "port: 70000, consent_interval: 1s"), "ice.port: must be 1-65535"),
            (good.replacingOccurrences(of: "peers:", with: "turn: [{url: \"turn:127.0.0.1:3478?transport=sctp\", username: u, password: p}]\npeers:"),
             "turn[0].url: 'turn:127.0.0.1:3478?transport=sctp' names a transport other than udp or tcp"),
            (good.replacingOccurrences(of: "peers:", with: "turn: [{url: \"turns:127.0.0.1\", username: u, password: p, ca_file: missing.pem}]\npeers:"),
             "turn[0].ca_file: cannot read "),
            (good.replacingOccurrences(of: "peers:", with: "turn: [{url: \"turn:127.0.0.1\", username: u, password: p, ca_file: ca.pem}]\npeers:"),
             "turn[0].ca_file: only a turns: server uses TLS"),
            (good.replacingOccurrences(of: "consent_interval: 1s", with: "port: \(mesh.port("ann", "bob")), consent_interval: 1s"),
             "peers[0].local_port: \(mesh.port("ann", "bob")) is also ice.port"),
            (good.replacingOccurrences(of: "peers:", with: "socket_buffer: 12\npeers:"),
             "socket_buffer: expected 0 (the system's default) or a size from 64KiB to 256MiB like 2MiB, got '12'"),
            (good.replacingOccurrences(of: "peers:", with: "metrics_listen: localhost\npeers:"),
             "metrics_listen: expected IP:PORT, like 127.0.0.1:9469, got 'localhost'"),
            ("name: [unclosed", "not valid YAML"),
        ]
        for (text, message) in cases {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try Harness.icestat(["up", "--config", path], timeout: 10)
            #expect(r.status == 2 && r.stderr.contains("icestat up: config \(path): ") && r.stderr.contains(message), "\(message): \(r.stderr)")
        }
        // keygen writes a 0600 key and will not overwrite one.
        let keyPath = mesh.directory + "/k.key"
        let r = try Harness.icestat(["keygen", keyPath])
        #expect(r.status == 0 && r.stdout.count == 45)
        let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try Harness.icestat(["keygen", keyPath]).status == 1)
    }
}
