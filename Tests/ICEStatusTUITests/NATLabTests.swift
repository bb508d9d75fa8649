import Foundation
import ICETestSupport
import Testing

/// A lab run: a NAT lab with coturn and `icestat signal` on the server, and `icestat up` agents on its hosts.
final class LabScenario {
    let lab: NATLab
    let mesh: MeshFixture
    private(set) var coturn: Harness.Child?
    static let turnPort = 3478
    static let ice = "{consent_interval: 1s, disconnected_timeout: 3s, failed_timeout: 6s, checking_timeout: 10s, relay_nomination_delay: 1s}"

    init() throws {
        lab = try NATLab()
        mesh = try MeshFixture(signalNamespace: lab.server, signalHost: NATLab.serverIP)
    }

    /// coturn on the server host; with `rfc5780`, also on the host's second address (OTHER-ADDRESS and
    /// CHANGE-REQUEST need two addresses and two ports: coturn's alternate port is the listening port + 1).
    func startCoturn(rfc5780: Bool = false, tls: TestCertificates? = nil) throws {
        var extra: [String] = []
        if rfc5780 {
            try lab.sh(lab.server, "ip addr add \(NATLab.serverIP2)/24 dev eth0")
            extra = ["--listening-ip", NATLab.serverIP2, "--alt-listening-port", "\(Self.turnPort + 1)"]
        }
        coturn = try lab.namespace(lab.server).startCoturn(ip: NATLab.serverIP, port: Self.turnPort, relayPorts: 49152...49652,
                                                             realm: "icestat.lab", log: mesh.directory + "/coturn.log",
                                                             extraArguments: extra, tls: tls.map { ($0.certificate, $0.key) })
    }

    /// `icestat netcheck --json` on a host against the lab's coturn.
    func netcheck(on host: String) throws -> [String: Any] {
        let argv = lab.wrap(host, [Harness.binary, "netcheck", "--json", "--timeout", "1", "--stun", "stun:\(NATLab.serverIP):\(Self.turnPort)"])
        let r = try Harness.run(argv[0], Array(argv.dropFirst()), timeout: 40)
        return (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? ["status": r.status, "stderr": r.stderr]
    }

    func stopCoturn() {
        guard let coturn else { return }
        kill(coturn.pid, SIGKILL)
        coturn.wait(seconds: 5)
        self.coturn = nil
    }

    /// Configures agents `names` (each on the given host namespace) as one mesh, with STUN always and TURN if asked.
    func configure(_ hosts: [(name: String, namespace: String)], turn: Bool, lazy: Bool = false, inactivity: String = "15m",
                   ice: [String: String] = [:], turnURLs: [String] = [], caFile: String? = nil) throws {
        var servers = "stun: [\"stun:\(NATLab.serverIP):\(Self.turnPort)\"]"
        let urls = turnURLs.isEmpty && turn ? ["turn:\(NATLab.serverIP):\(Self.turnPort)?transport=udp"] : turnURLs
        if !urls.isEmpty { servers += "\nturn:" }
        for url in urls {
            let ca = url.hasPrefix("turns:") ? caFile.map { ", ca_file: \($0)" } ?? "" : ""
            servers += "\n  - {url: \"\(url)\", username: icestat, password: secret\(ca)}"
        }
        var extra: [String: String] = [:]
        for host in hosts {
            extra[host.name] = servers
            extra["ice-\(host.name)"] = ice[host.name]
            mesh.agentNamespaces[host.name] = host.namespace
        }
        try mesh.configure(hosts.map(\.name), lazy: lazy, inactivity: inactivity, extra: extra, ice: Self.ice)
    }

    /// Sites a and b with one host each behind `natA` and `natB`, coturn when `turn`, and agents a1 and b1
    /// peering with each other, started. Returns the two hosts' namespaces.
    @discardableResult
    func startPair(_ natA: NATLab.NAT, _ natB: NATLab.NAT, turn: Bool = true, lazy: Bool = false, rfc5780: Bool = false) throws -> (a: String, b: String) {
        let a = try lab.addSite("a", nat: natA)[0], b = try lab.addSite("b", nat: natB)[0]
        if turn { try startCoturn(rfc5780: rfc5780) }
        try configure([("a1", a), ("b1", b)], turn: turn, lazy: lazy)
        try start(["a1", "b1"])
        return (a, b)
    }

    func start(_ names: [String]) throws {
        if mesh.signal == nil { try mesh.startSignal() }
        for name in names { try mesh.startAgent(name) }
    }

    func peer(_ agent: String, _ peer: String) -> [String: Any] { mesh.peers(agent)[peer] ?? [:] }

    /// (local, remote) candidate types of a connected peer.
    func types(_ agent: String, _ peer: String) -> (String?, String?) {
        let t = self.peer(agent, peer)["iceCandidateType"] as? [String: Any]
        return (t?["local"] as? String, t?["remote"] as? String)
    }

    /// Seconds until `condition` holds (polled every 100 ms), or nil after `seconds`.
    func time(within seconds: Double, _ condition: () -> Bool) -> Double? {
        let start = Date()
        return eventuallyBlocking(seconds: seconds, condition) ? Date().timeIntervalSince(start) : nil
    }

    func connected(_ a: String, _ b: String, type: String) -> Bool {
        [(a, b), (b, a)].allSatisfy {
            let p = peer($0.0, $0.1)
            return p["status"] as? String == "Connected" && p["connectionType"] as? String == type
        }
    }

    /// An app on `from`'s host sends `text` to its local port for `to`; a service on `to`'s host answers it.
    /// Returns what the app got back, what the service heard (text and source port), and the round trip.
    func ping(from: (agent: String, host: String), to: (agent: String, host: String), _ text: String) throws
        -> (reply: String, heard: String, seconds: Double) {
        let out = mesh.directory + "/service-\(to.agent).out"
        let service = try Harness.Child(lab.wrap(to.host, ["python3", "-c", """
            import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", \(mesh.servicePort(to.agent, from.agent))))
            s.settimeout(20); d, src = s.recvfrom(2048); print(d.decode(), src[1], flush=True); s.sendto(b"pong:" + d, src)
            """]), stdout: out)
        Thread.sleep(forTimeInterval: 0.5)
        let start = Date()
        let app = try Harness.run("ip", ["netns", "exec", from.host, "python3", "-c", """
            import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(15)
            s.sendto(\"\(text)\".encode(), ("127.0.0.1", \(mesh.port(from.agent, to.agent)))); print(s.recvfrom(2048)[0].decode())
            """], timeout: 20)
        let seconds = Date().timeIntervalSince(start)
        service.wait(seconds: 5)
        return (app.stdout, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", seconds)
    }

    /// What a failing scenario prints: the namespaces, then both agents' detail and logs.
    var explanation: String { lab.describe() + "\n" + mesh.dump() }

    static func report(_ line: String) { print("NAT lab: \(line)") }

    deinit {
        // For a person debugging a scenario: ICESTAT_LAB_HOLD=SECONDS keeps the lab up that long before teardown.
        if let hold = ProcessInfo.processInfo.environment["ICESTAT_LAB_HOLD"].flatMap(Double.init) {
            print("NAT lab held for \(hold) s: \(mesh.directory)")
            Thread.sleep(forTimeInterval: hold)
        }
    }
}

private func seconds(_ t: Double?) -> String { t.map { String(format: "%.2f s", $0) } ?? "never" }

/// ICE across real NATs made of network namespaces; each scenario asserts the outcome `icestat --detail --json`
/// shows on the hosts, and prints its measured times.
@Suite("NAT lab", .serialized, .timeLimit(.minutes(3)),
       .enabled(if: NetworkNamespace.unavailableReason == nil, "\(NetworkNamespace.unavailableReason ?? "")"))
struct NATLabTests {
    @Test func twoHostsOnTheSameLANConnectHostToHost() throws {
        let s = try LabScenario()
        let hosts = try s.lab.addSite("a", nat: .portRestricted, hosts: 2)
        try s.startCoturn()
        try s.configure([("a1", hosts[0]), ("a2", hosts[1])], turn: true)
        try s.start(["a1", "a2"])
        let t = s.time(within: 15) { s.connected("a1", "a2", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        #expect(s.types("a1", "a2") == ("host", "host"), "\(s.explanation)")
        let endpoints = s.peer("a1", "a2")["iceCandidateEndpoint"] as? [String: Any]
        #expect((endpoints?["local"] as? String)?.hasPrefix("10.0.1.2:") == true && (endpoints?["remote"] as? String)?.hasPrefix("10.0.1.3:") == true)
        LabScenario.report("same LAN: Connected P2P host/host in \(seconds(t))")
    }

    @Test func coneToConeConnectsDirectlyThroughServerReflexiveCandidates() throws {
        let s = try LabScenario()
        try s.startPair(.fullCone, .fullCone)
        let t = s.time(within: 15) { s.connected("a1", "b1", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        let seen = [s.types("a1", "b1"), s.types("b1", "a1")]
        #expect(seen.contains { $0.0 == "srflx" || $0.1 == "srflx" }, "\(seen)\n\(s.explanation)")
        LabScenario.report("full cone <-> full cone: Connected P2P \(seen) in \(seconds(t))")
    }

    @Test func portRestrictedToPortRestrictedPunchesThroughBoth() throws {
        let s = try LabScenario()
        try s.startPair(.portRestricted, .portRestricted)
        let t = s.time(within: 15) { s.connected("a1", "b1", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        let seen = [s.types("a1", "b1"), s.types("b1", "a1")]
        LabScenario.report("port-restricted <-> port-restricted: Connected P2P \(seen) in \(seconds(t))")
    }

    @Test func symmetricToFullConeConnectsDirectlyThroughAPeerReflexiveCandidate() throws {
        let s = try LabScenario()
        try s.startPair(.symmetric, .fullCone)
        // The symmetric side's checks reach the cone's public port from a mapping made for that destination,
        // which the cone side learns as a peer-reflexive candidate: a direct path, no relay needed.
        let t = s.time(within: 15) { s.connected("a1", "b1", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        let fromCone = s.types("b1", "a1")
        #expect(fromCone.1 == "prflx", "\(fromCone)\n\(s.explanation)")
        LabScenario.report("symmetric <-> full cone: Connected P2P, cone side sees \(fromCone) in \(seconds(t))")
    }

    @Test func symmetricToSymmetricIsRelayedThroughCoturnWithTheReason() throws {
        let s = try LabScenario()
        let (a, b) = try s.startPair(.symmetric, .symmetric)
        let t = s.time(within: 20) { s.connected("a1", "b1", type: "Relayed") }
        #expect(t != nil, "\(s.explanation)")
        for (x, y) in [("a1", "b1"), ("b1", "a1")] {
            #expect((s.peer(x, y)["reason"] as? String)?.hasPrefix("direct checks timed out, relayed") == true, "\(s.explanation)")
        }
        let relays = [s.peer("a1", "b1")["relayAddress"], s.peer("b1", "a1")["relayAddress"]].compactMap { $0 as? String }
        #expect(relays.contains("turn:\(NATLab.serverIP):\(LabScenario.turnPort)"), "\(relays)")
        // The data plane over the relay: through a TURN channel bound once the pair was chosen.
        let r = try s.ping(from: ("a1", a), to: ("b1", b), "ping through the relay")
        #expect(r.reply == "pong:ping through the relay\n" && r.heard == "ping through the relay \(s.mesh.port("b1", "a1"))\n",
                "\(r)\n\(s.explanation)")
        #expect(s.mesh.log("coturn").contains("CHANNEL_BIND processed, success"))
        #expect(s.connected("a1", "b1", type: "Relayed"))
        LabScenario.report("symmetric <-> symmetric: Connected Relayed via coturn in \(seconds(t))")
    }

    @Test func aPortForwardedHostBehindASymmetricNATConnectsDirectlyThroughTheExtraServerReflexiveCandidate() throws {
        let s = try LabScenario()
        let a = try s.lab.addSite("a", nat: .symmetric)[0], b = try s.lab.addSite("b", nat: .symmetric)[0]
        let port = 40404
        // a's router forwards UDP 40404 to a1, which binds its host candidates there (ice.port): its srflx
        // mapping gets a random port, so a1 also signals its public address with port 40404.
        try s.lab.forward("a", udpPort: port)
        try s.startCoturn()
        let ice = String(LabScenario.ice.dropLast()) + ", port: \(port)}"
        try s.configure([("a1", a), ("b1", b)], turn: true, ice: ["a1": ice])
        try s.start(["a1", "b1"])
        let t = s.time(within: 20) { s.connected("a1", "b1", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        let fromB = s.peer("b1", "a1")["iceCandidateEndpoint"] as? [String: Any]
        #expect(fromB?["remote"] as? String == "\(s.lab.sites["a"]!.publicIP):\(port)", "\(String(describing: fromB))\n\(s.explanation)")
        #expect(s.types("b1", "a1").1 == "srflx")
        let fromA = s.peer("a1", "b1")["iceCandidateEndpoint"] as? [String: Any]
        // a1 sees itself as b1 does: at the forwarded public port (learned from b1's answer, so prflx).
        #expect(fromA?["local"] as? String == "\(s.lab.sites["a"]!.publicIP):\(port)", "\(String(describing: fromA))")
        let r = try s.ping(from: ("b1", b), to: ("a1", a), "ping through the forward")
        #expect(r.reply == "pong:ping through the forward\n", "\(r)\n\(s.explanation)")
        LabScenario.report("symmetric with a port forward <-> symmetric: Connected P2P \(s.types("b1", "a1")) in \(seconds(t))")
    }

    @Test func netcheckOnEachSiteGivesItsNATsVerdict() throws {
        let s = try LabScenario()
        let sites: [(String, NATLab.NAT)] = [("a", .fullCone), ("b", .portRestricted), ("c", .symmetric), ("d", .udpBlocked)]
        var hosts: [String: String] = [:]
        for (name, nat) in sites { hosts[name] = try s.lab.addSite(name, nat: nat)[0] }
        try s.startCoturn(rfc5780: true)
        var seen: [String] = []
        for (name, nat) in sites {
            let doc = try s.netcheck(on: hosts[name]!)
            let got = [doc["mapping"], doc["filtering"], doc["verdict"]].map { $0 as? String ?? "-" }
            seen.append("\(nat.rawValue): \(got.joined(separator: ", "))")
            switch nat {
            case .fullCone:
                #expect(got == ["endpoint-independent", "endpoint-independent", "full-cone"], "\(doc)\n\(s.explanation)")
                #expect(doc["publicIPv4"] as? String == s.lab.sites[name]!.publicIP && doc["behindNAT"] as? Bool == true)
            case .portRestricted:
                #expect(got == ["endpoint-independent", "address-and-port-dependent", "port-restricted-cone"], "\(doc)\n\(s.explanation)")
                #expect(doc["portPreserved"] as? Bool == true)
            case .symmetric:
                #expect(got[0] == "address-and-port-dependent" && got[2] == "symmetric", "\(doc)\n\(s.explanation)")
                #expect(doc["portPreserved"] as? Bool == false)
            case .udpBlocked, .tlsOnly:
                #expect(doc["udp"] as? Bool == false && got[2] == "udp-blocked", "\(doc)")
            }
        }
        LabScenario.report("netcheck verdicts: \(seen.joined(separator: "; "))")
    }

    @Test func symmetricToSymmetricNamesBothNATsAndRetriesDirectAtTheLongestInterval() throws {
        let s = try LabScenario()
        try s.startPair(.symmetric, .symmetric, rfc5780: true)
        // Each agent's netcheck finds its symmetric NAT and says so in its next offer; the reason then uses both.
        let t = s.time(within: 30) {
            [("a1", "b1"), ("b1", "a1")].allSatisfy { (s.peer($0.0, $0.1)["reason"] as? String)?.hasPrefix("\($0.1) is behind a symmetric NAT") == true }
        }
        #expect(t != nil, "\(s.explanation)")
        for (x, y) in [("a1", "b1"), ("b1", "a1")] {
            let peer = s.peer(x, y)
            let reason = peer["reason"] as? String ?? ""
            #expect(reason.hasPrefix("\(y) is behind a symmetric NAT and so are we: a direct path needs a relay; next direct attempt in "), "\(reason)")
            // The wait is the longest backoff at once, as the logged fallback says (the reason counts down).
            let fallback = (peer["events"] as? [[String: Any]] ?? []).last { $0["kind"] as? String == "relay-fallback" }
            let message = fallback?["message"] as? String ?? ""
            let seconds = Int(message.split(separator: " ").dropLast().last ?? "") ?? 0
            #expect(message.hasPrefix("relayed; next direct attempt in ") && (30...45).contains(seconds), "\(String(describing: fallback))")
            #expect(peer["connectionType"] as? String == "Relayed")
            let agent = s.mesh.agentJSON(x)["nat"] as? [String: Any]
            #expect(agent?["verdict"] as? String == "symmetric" && agent?["mapping"] as? String == "address-and-port-dependent", "\(String(describing: agent))")
        }
        let detail = try Harness.icestat(["--detail", "--socket", s.mesh.agents["a1"]!.socket])
        #expect(detail.stdout.contains("Network:\n  NAT: symmetric (mapping address-and-port-dependent, filtering "), "\(detail.stdout)")
        LabScenario.report("symmetric <-> symmetric with netcheck: \"\(s.peer("a1", "b1")["reason"] as? String ?? "")\" after \(seconds(t))")
    }

    @Test func netcheckEstimatesTheMappingLifetimeWithResponsePort() throws {
        let s = try LabScenario()
        let host = try s.lab.addSite("b", nat: .portRestricted)[0]
        // The router forgets an idle UDP mapping after 3 s (Linux's default is 30 s; 120 s once a flow is seen
        // both ways).
        try s.lab.sh(s.lab.sites["b"]!.router, "sysctl -qw net.netfilter.nf_conntrack_udp_timeout=3 net.netfilter.nf_conntrack_udp_timeout_stream=3")
        try s.lab.sh(s.lab.server, "ip addr add \(NATLab.serverIP2)/24 dev eth0")
        let log = s.mesh.directory + "/stun.log"
        let stun = try Harness.Child(s.lab.wrap(s.lab.server, [Harness.binary, "stun", "--listen", "\(NATLab.serverIP):3490",
                                                                 "--alternate", "\(NATLab.serverIP2):3491"]), stderr: log)
        defer { stun.terminate(); stun.wait(seconds: 5) }
        #expect(eventuallyBlocking(seconds: 10) { s.mesh.log("stun").contains("listening") })
        let argv = s.lab.wrap(host, [Harness.binary, "netcheck", "--json", "--timeout", "1", "--stun", "stun:\(NATLab.serverIP):3490",
                                     "--lifetime", "--lifetime-waits", "1,6"])
        let r = try Harness.run(argv[0], Array(argv.dropFirst()), timeout: 60)
        let doc = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        let lifetime = doc["lifetime"] as? [String: Any]
        #expect(lifetime?["atLeastSeconds"] as? Int == 1 && lifetime?["lessThanSeconds"] as? Int == 6, "\(r.stdout)\n\(r.stderr)")
        #expect(doc["verdict"] as? String == "port-restricted-cone")
        LabScenario.report("netcheck --lifetime behind a port-restricted NAT with a 3 s UDP timeout: \(String(describing: lifetime))")
    }

    /// TURN over UDP and TCP configured: a site that drops all UDP relays over TCP.
    func startTCPRelayed() throws -> LabScenario {
        let s = try LabScenario()
        let a = try s.lab.addSite("a", nat: .udpBlocked)[0], b = try s.lab.addSite("b", nat: .portRestricted)[0]
        try s.startCoturn()
        let turn = "\(NATLab.serverIP):\(LabScenario.turnPort)"
        try s.configure([("a1", a), ("b1", b)], turn: true, turnURLs: ["turn:\(turn)?transport=udp", "turn:\(turn)?transport=tcp"])
        try s.start(["a1", "b1"])
        return s
    }

    @Test func aSiteWithoutUDPConnectsThroughTURNOverTCP() throws {
        let s = try startTCPRelayed()
        let t = s.time(within: 30) { s.connected("a1", "b1", type: "Relayed") }
        #expect(t != nil, "\(s.explanation)")
        let peer = s.peer("a1", "b1")
        #expect(peer["relayTransport"] as? String == "tcp" && peer["relayAddress"] as? String == "turn:\(NATLab.serverIP):\(LabScenario.turnPort)?transport=tcp",
                "\(peer)")
        // UDP to the server is dropped silently: its Allocate fails only at its timeout, and the reason says so then.
        #expect(eventuallyBlocking(seconds: 15) {
            (s.peer("a1", "b1")["reason"] as? String)?.hasPrefix("direct checks timed out; UDP to the TURN server failed; relayed over TURN/TCP; next direct attempt in ") == true
        }, "\(s.peer("a1", "b1"))")
        // A datagram one way and its reply the other, through the TCP relay.
        let hosts = (s.lab.sites["a"]!.hosts[0], s.lab.sites["b"]!.hosts[0])
        let r = try s.ping(from: ("a1", hosts.0), to: ("b1", hosts.1), "over TURN/TCP")
        #expect(r.reply == "pong:over TURN/TCP\n" && r.heard == "over TURN/TCP \(s.mesh.port("b1", "a1"))\n", "\(r)\n\(s.explanation)")
        LabScenario.report("UDP blocked <-> port-restricted, TURN over UDP and TCP: Connected Relayed over TURN/TCP in \(seconds(t))")
    }

    @Test func twoSitesThatReachOnlyTCP5349ConnectOverTURNOverTLS() throws {
        let s = try LabScenario()
        s.lab.allowedTCPPorts = [s.mesh.signalPort]
        let a = try s.lab.addSite("a", nat: .tlsOnly)[0], b = try s.lab.addSite("b", nat: .tlsOnly)[0]
        let certs = try TestCertificates(names: [NATLab.serverIP])
        try s.startCoturn(tls: certs)
        let turn = "\(NATLab.serverIP):\(LabScenario.turnPort)"
        try s.configure([("a1", a), ("b1", b)], turn: true,
                        turnURLs: ["turn:\(turn)?transport=udp", "turn:\(turn)?transport=tcp", "turns:\(NATLab.serverIP):5349"], caFile: certs.caFile)
        try s.start(["a1", "b1"])
        let t = s.time(within: 30) { s.connected("a1", "b1", type: "Relayed") }
        #expect(t != nil, "\(s.explanation)")
        for (x, y) in [("a1", "b1"), ("b1", "a1")] {
            let peer = s.peer(x, y)
            #expect(peer["relayTransport"] as? String == "tls" && peer["relayAddress"] as? String == "turns:\(NATLab.serverIP):5349", "\(peer)")
            #expect(eventuallyBlocking(seconds: 15) {
                (s.peer(x, y)["reason"] as? String)?.contains("UDP to the TURN server failed; relayed over TURN/TLS") == true
            }, "\(s.peer(x, y))")
        }
        let detail = try Harness.icestat(["--detail", "--socket", s.mesh.agents["a1"]!.socket])
        #expect(detail.stdout.contains("Relay server address: turns:\(NATLab.serverIP):5349 (TLS)"), "\(detail.stdout)")
        let r = try s.ping(from: ("a1", a), to: ("b1", b), "over TURN/TLS")
        #expect(r.reply == "pong:over TURN/TLS\n", "\(r)\n\(s.explanation)")
        LabScenario.report("TCP-5349-only <-> TCP-5349-only: Connected Relayed over TURN/TLS in \(seconds(t))")
    }

    @Test func aTCPRelayWhoseServerDiesReconnectsWhenItReturns() throws {
        let s = try startTCPRelayed()
        #expect(s.time(within: 30) { s.connected("a1", "b1", type: "Relayed") } != nil, "\(s.explanation)")
        s.stopCoturn()
        let left = s.time(within: 5) { s.peer("a1", "b1")["status"] as? String != "Connected" }
        #expect(left != nil && left! < 2, "left Connected after \(seconds(left))\n\(s.explanation)")
        let reason = s.peer("a1", "b1")["reason"] as? String ?? ""
        #expect(reason.hasPrefix("TURN/TCP connection to turn:\(NATLab.serverIP):\(LabScenario.turnPort)?transport=tcp lost ("), "\(reason)")
        try s.startCoturn()
        let back = s.time(within: 60) { s.connected("a1", "b1", type: "Relayed") }
        #expect(back != nil, "\(s.explanation)")
        #expect(s.peer("a1", "b1")["relayTransport"] as? String == "tcp")
        LabScenario.report("TCP relay's coturn killed: left Connected in \(seconds(left)) (\"\(reason)\"), Connected again \(seconds(back)) after coturn returned")
    }

    @Test func symmetricToSymmetricWithoutTURNKeepsTryingAndSaysWhy() throws {
        let s = try LabScenario()
        try s.startPair(.symmetric, .symmetric, turn: false)
        let t = s.time(within: 25) {
            (s.peer("a1", "b1")["reason"] as? String)?.contains("no TURN server configured") == true
        }
        #expect(t != nil, "\(s.explanation)")
        let peer = s.peer("a1", "b1")
        #expect(peer["status"] as? String == "Connecting")
        #expect((peer["reason"] as? String)?.hasPrefix("ICE checks failed; no TURN server configured to relay through; retrying every") == true, "\(peer)")
        #expect(peer["nextRetryAt"] is String)
        #expect(s.mesh.agents["a1"]!.process!.isRunning && s.mesh.agents["b1"]!.process!.isRunning)
        LabScenario.report("symmetric <-> symmetric, no TURN: Connecting with \"\(peer["reason"] as? String ?? "")\" after \(seconds(t))")
    }

    @Test func aSiteWithoutUDPStaysConnectingWithTheRelayFailureAsTheReason() throws {
        let s = try LabScenario()
        try s.startPair(.udpBlocked, .fullCone)
        // Signalling is TCP and still works; no STUN, no TURN over UDP, no direct path.
        let t = s.time(within: 25) { (s.peer("a1", "b1")["reason"] as? String)?.contains("relay unavailable") == true }
        #expect(t != nil, "\(s.explanation)")
        let peer = s.peer("a1", "b1")
        #expect(peer["status"] as? String == "Connecting")
        #expect((peer["reason"] as? String)?.hasPrefix("ICE checks failed; relay unavailable: turn:\(NATLab.serverIP):\(LabScenario.turnPort): ") == true, "\(peer)")
        #expect(s.mesh.peers("b1")["a1"]?["status"] as? String == "Connecting")
        LabScenario.report("UDP blocked <-> full cone: Connecting with \"\(peer["reason"] as? String ?? "")\" after \(seconds(t))")
    }

    @Test func aCutLinkFallsBackToTheRelayAndHealsToP2P() throws {
        let s = try LabScenario()
        try s.startPair(.fullCone, .portRestricted)
        let connect = s.time(within: 15) { s.connected("a1", "b1", type: "P2P") }
        #expect(connect != nil, "\(s.explanation)")

        try s.lab.cut("a", from: "b")
        let detect = s.time(within: 10) { s.peer("a1", "b1")["status"] as? String != "Connected" }
        #expect(detect != nil && detect! <= 6, "left Connected after \(seconds(detect))\n\(s.explanation)")
        let relayed = s.time(within: 20) { s.connected("a1", "b1", type: "Relayed") }
        #expect(relayed != nil, "\(s.explanation)")

        try s.lab.restore("a", from: "b")
        let heal = s.time(within: 25) { s.connected("a1", "b1", type: "P2P") }
        #expect(heal != nil, "\(s.explanation)")
        LabScenario.report("link cut: connect \(seconds(connect)), left Connected \(seconds(detect)) after the cut, "
                           + "relayed \(seconds(relayed)) later; restored: P2P again \(seconds(heal)) later")
    }

    @Test func aNetworkChangeRetriesTheDirectPathAtOnce() throws {
        let s = try LabScenario()
        let (a, _) = try s.startPair(.symmetric, .symmetric)
        // Relayed, and direct attempts (3 s, 6 s) have failed: the next one is 12 s away.
        let waited = s.time(within: 30) {
            [("a1", "b1"), ("b1", "a1")].contains { pair in
                (s.peer(pair.0, pair.1)["events"] as? [[String: Any]] ?? []).contains { $0["message"] as? String == "relayed; next direct attempt in 12 s" }
            }
        }
        #expect(waited != nil, "\(s.explanation)")
        #expect(s.connected("a1", "b1", type: "Relayed"))
        // Site a's network changes: a new address on the host, and its router now a full cone.
        try s.lab.apply(.fullCone, to: "a")
        try s.lab.sh(a, "ip addr add 10.0.1.12/24 dev eth0")
        let direct = s.time(within: 10) { s.connected("a1", "b1", type: "P2P") }
        #expect(direct != nil && direct! < 9, "P2P after \(String(describing: direct))\n\(s.explanation)")
        #expect(s.mesh.log("a1").contains("network changed (added [\"10.0.1.12\"], removed []): reconnecting active peers"))
        LabScenario.report("network change: relayed with the next direct attempt 12 s away; P2P \(seconds(direct)) after a new address appeared (monitor polls every 5 s)")
    }

    @Test func coturnKilledKeepsDirectPeersUpAndRelayedPeersSaySo() throws {
        let s = try LabScenario()
        let a = try s.lab.addSite("a", nat: .fullCone)[0], b = try s.lab.addSite("b", nat: .fullCone)[0]
        let c = try s.lab.addSite("c", nat: .symmetric)[0], d = try s.lab.addSite("d", nat: .symmetric)[0]
        try s.startCoturn()
        try s.configure([("a1", a), ("b1", b)], turn: true)
        try s.configure([("c1", c), ("d1", d)], turn: true)
        try s.start(["a1", "b1", "c1", "d1"])
        #expect(s.time(within: 20) { s.connected("a1", "b1", type: "P2P") && s.connected("c1", "d1", type: "Relayed") } != nil,
                "\(s.explanation)")
        s.stopCoturn()
        let lost = s.time(within: 10) { s.peer("c1", "d1")["status"] as? String != "Connected" }
        #expect(lost != nil, "\(s.explanation)")
        let reason = s.peer("c1", "d1")["reason"] as? String ?? ""
        #expect(reason.hasPrefix("no consent response") || reason.contains("relay unavailable"), "\(reason)")
        // The direct peers never noticed.
        Thread.sleep(forTimeInterval: 4)
        #expect(s.connected("a1", "b1", type: "P2P"), "\(s.explanation)")
        // Once the relayed session gives up, the reason names the relay.
        let named = s.time(within: 25) { (s.peer("c1", "d1")["reason"] as? String)?.contains("relay unavailable: turn:\(NATLab.serverIP)") == true }
        #expect(named != nil, "\(s.peer("c1", "d1"))")
        LabScenario.report("coturn killed: the relayed peer left Connected after \(seconds(lost)) (\"\(reason)\"); P2P peers stayed Connected")
    }

    @Test func signalServerRestartKeepsConnectionsAndNewOnesWork() throws {
        let s = try LabScenario()
        try s.startPair(.portRestricted, .fullCone)
        #expect(s.time(within: 15) { s.connected("a1", "b1", type: "P2P") } != nil, "\(s.explanation)")
        s.mesh.stopSignal()
        Thread.sleep(forTimeInterval: 3)
        #expect(s.connected("a1", "b1", type: "P2P"), "\(s.explanation)")
        try s.mesh.startSignal()
        s.mesh.kill("b1", signal: SIGTERM)
        try s.mesh.startAgent("b1")
        let t = s.time(within: 20) { s.connected("a1", "b1", type: "P2P") }
        #expect(t != nil, "\(s.explanation)")
        LabScenario.report("signal restarted: P2P kept for 3 s without it; a restarted agent reconnected in \(seconds(t))")
    }

    @Test func aioiceBehindAPortRestrictedNATConnectsToIcestatBehindAConeThroughSTUN() throws {
        let s = try LabScenario()
        let a = try s.lab.addSite("a", nat: .portRestricted)[0], b = try s.lab.addSite("b", nat: .fullCone)[0]
        try s.startCoturn()
        let stun = "stun:\(NATLab.serverIP):\(LabScenario.turnPort)"
        let interop = InteropTests.interop
        let r = try Harness.run("python3", ["\(interop)/crosswire.py", "25", "--"]
            + s.lab.wrap(a, ["python3", "\(interop)/aioice_probe.py", "--controlling", "--stun", stun, "--host-address", "10.0.1.2"])
            + ["--"] + s.lab.wrap(b, [Harness.binary, "probe", "--controlled", "--stun", stun, "--interface", "eth0", "--network", "udp4"]),
            timeout: 40)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], "\(r.stderr)")
        let status = doc["status"] as? [Int]
        #expect(status == [0, 0], "\(doc)\n\(s.lab.describe())")
        func lines(_ side: String, _ type: String) -> [[String: Any]] {
            ((doc[side] as? [[String: Any]]) ?? []).filter { $0["type"] as? String == type }
        }
        // Both gathered a server-reflexive candidate through coturn's STUN: their NATs' public addresses.
        #expect(lines("a", "candidate").contains { ($0["candidate"] as? String)?.contains("203.0.113.2") == true && ($0["candidate"] as? String)?.contains("typ srflx") == true })
        #expect(lines("b", "candidate").contains { ($0["candidate"] as? String)?.contains("203.0.113.3") == true && ($0["candidate"] as? String)?.contains("typ srflx") == true })
        for side in ["a", "b"] { #expect(lines(side, "done").first?["echoed"] as? Int == 5, "\(doc)") }
        let connected = lines("b", "connected").first
        let local = connected?["local"] as? [String: Any], remote = connected?["remote"] as? [String: Any]
        #expect(local?["type"] as? String == "srflx" && (local?["address"] as? String) == "203.0.113.3", "\(String(describing: connected))")
        #expect(["srflx", "prflx"].contains(remote?["type"] as? String ?? "") && remote?["address"] as? String == "203.0.113.2",
                "\(String(describing: connected))")
        LabScenario.report("aioice behind port-restricted <-> icestat probe behind full cone: connected \(local?["type"] ?? "?")/\(remote?["type"] ?? "?"), 5 datagrams echoed")
    }

    @Test func aLazyDatagramCrossesBothNATsAndItsReplyReturns() throws {
        let s = try LabScenario()
        let (a, b) = try s.startPair(.portRestricted, .portRestricted, lazy: true)
        #expect(s.time(within: 5) { s.peer("a1", "b1")["reason"] as? String == "lazy: idle until traffic" } != nil, "\(s.explanation)")
        #expect(s.peer("a1", "b1")["status"] as? String == "Idle")
        // A service on b1's host answers one datagram; an app on a1's host sends to a1's port for b1.
        let r = try s.ping(from: ("a1", a), to: ("b1", b), "ping across two NATs")
        let roundTrip = r.seconds
        #expect(r.reply == "pong:ping across two NATs\n", "\(s.explanation)")
        #expect(r.heard == "ping across two NATs \(s.mesh.port("b1", "a1"))\n")
        #expect(s.connected("a1", "b1", type: "P2P"), "\(s.explanation)")
        LabScenario.report(String(format: "lazy: first datagram to reply across both NATs in %.2f s (Idle -> Connected included)", roundTrip))
    }
}
