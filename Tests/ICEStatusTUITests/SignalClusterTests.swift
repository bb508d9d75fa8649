import ICETestSupport
import Foundation
import Testing
@testable import ICEStatBench
@testable import ICEStatusTUI

/// Several `icestat signal --cluster` nodes joined through a throwaway PostgreSQL server, with `icestat up`
/// agents spread across them, all as separate processes on loopback.
@Suite("Signal cluster", .serialized, .timeLimit(.minutes(4)))
struct SignalClusterTests {
    static func pairs(_ names: [String]) -> [(String, String)] {
        names.flatMap { a in names.filter { $0 != a }.map { (a, $0) } }
    }

    /// A datagram from `x`'s app through `x`'s port for `y` reaches `y`'s service, and the reply comes back.
    static func exchange(_ mesh: MeshFixture, _ x: String, _ y: String) -> Bool {
        guard let app = try? UDPProbe(), let service = try? UDPProbe(port: mesh.servicePort(y, x)) else { return false }
        app.send("\(x) to \(y)", to: mesh.port(x, y))
        guard service.receive(seconds: 5)?.0 == "\(x) to \(y)" else { return false }
        service.send("\(y) to \(x)", to: mesh.port(y, x))
        return app.receive(seconds: 5)?.0 == "\(y) to \(x)"
    }

    /// The signal server an agent is on, if it is registered.
    static func signalServer(_ mesh: MeshFixture, _ name: String) -> String? {
        let servers = mesh.agentJSON(name)["servers"] as? [[String: Any]] ?? []
        guard let s = servers.first(where: { $0["kind"] as? String == "signal" }), s["available"] as? Bool == true else { return nil }
        return s["address"] as? String
    }

    static func cluster(_ status: [String: Any]) -> [String: Any] { status["cluster"] as? [String: Any] ?? [:] }
    static func count(_ status: [String: Any], _ key: String) -> Int { status[key] as? Int ?? -1 }

    @Test func sixAgentsOnThreeNodesConnectP2PAndMoveWhenTheirNodeIsKilled() throws {
        let pg = try ThrowawayPostgres()
        let mesh = try MeshFixture()
        let names = ["a", "b", "c", "d", "e", "f"]
        mesh.signalLists = ["a": [1, 2, 3], "b": [1, 3, 2], "c": [2, 3, 1], "d": [2, 1, 3], "e": [3, 1, 2], "f": [3, 2, 1]]
        try mesh.configure(names, lazy: false)
        // A node timeout of 5 s: well past the agents' move (under a second), even on a slow machine.
        for n in 1...3 { try mesh.startNode(n, cluster: pg.url, timeout: "5s") }
        for name in names { try mesh.startAgent(name) }
        let all = Self.pairs(names)
        #expect(mesh.waitAll(all, "Connected", seconds: 30), "\(mesh.dump())")
        for name in names {
            let peers = mesh.peers(name)
            for other in names where other != name {
                #expect(peers[other]?["connectionType"] as? String == "P2P", "\(name)→\(other)")
            }
            #expect(Self.signalServer(mesh, name) == "127.0.0.1:\(mesh.nodePort(mesh.signalLists[name]![0]))")
        }
        for n in 1...3 {
            let s = mesh.nodeStatus(n)
            #expect(Self.count(s, "peersHere") == 2)
            #expect(Self.cluster(s)["peersElsewhere"] as? Int == 4)
            #expect((Self.cluster(s)["nodes"] as? [Any])?.count == 3)
            // Each node's agents reached the four on other nodes, so every node sent and received across.
            #expect(Self.count(s, "forwardedToOtherNodes") > 0 && Self.count(s, "receivedFromOtherNodes") > 0)
            #expect(Self.count(s, "refused") == 0 && Self.count(s, "droppedFromOtherNodes") == 0)
        }
        for (i, x) in names.enumerated() {
            for y in names[(i + 1)...] { #expect(Self.exchange(mesh, x, y), "\(x)↔\(y)") }
        }

        // Node 1 (a and b) dies: they move to the next node on their lists; the P2P paths stay up throughout.
        let since = Dictionary(uniqueKeysWithValues: names.map { name in
            (name, mesh.peers(name).mapValues { $0["lastStatusUpdate"] as? String ?? "" })
        })
        let killedAt = ContinuousClock.now
        mesh.killNode(1)
        #expect(eventuallyBlocking(seconds: 5 + 5) {
            Self.signalServer(mesh, "a") == "127.0.0.1:\(mesh.nodePort(2))" && Self.signalServer(mesh, "b") == "127.0.0.1:\(mesh.nodePort(3))"
        }, "\(mesh.dump())")
        let movedAfter = ContinuousClock.now - killedAt
        // The survivors declare node 1 dead after its timeout and count the agents where they now are.
        #expect(eventuallyBlocking(seconds: 5 + 5) {
            [2, 3].allSatisfy { n in
                let s = mesh.nodeStatus(n)
                return (Self.cluster(s)["nodes"] as? [Any])?.count == 2 && Self.count(s, "peersHere") == 3
                    && Self.cluster(s)["peersElsewhere"] as? Int == 3
            }
        }, "\(mesh.dump())")
        #expect(mesh.waitAll(all, "Connected", seconds: 5), "\(mesh.dump())")
        for name in names {
            let now = mesh.peers(name).mapValues { $0["lastStatusUpdate"] as? String ?? "" }
            #expect(now == since[name], "\(name): a peer left Connected during the fail-over")
        }
        print("signal cluster: agents of the killed node registered elsewhere within \(movedAfter)")

        // A new connection between agents on different surviving nodes: d (node 2) restarts and meets everyone.
        mesh.kill("d")
        try mesh.startAgent("d")
        let withD = names.filter { $0 != "d" }.flatMap { [("d", $0), ($0, "d")] }
        #expect(mesh.waitAll(withD, "Connected", seconds: 20), "\(mesh.dump())")
        // (From b's side: b's port for d still answers the app that spoke on it first. The peers may still be
        // taking up d's new session, so data gets a few tries.)
        #expect(eventuallyBlocking(seconds: 10) { Self.exchange(mesh, "d", "e") && Self.exchange(mesh, "b", "d") }, "\(mesh.dump())")
        for n in [2, 3] {
            let s = mesh.nodeStatus(n)
            #expect(Self.count(s, "refused") == 0, "node \(n): \(s)")
            print("signal cluster: node \(n) after the fail-over: dropped \(Self.cluster(s)["dropped"] ?? [:]), "
                  + "from other nodes dropped \(Self.count(s, "droppedFromOtherNodes")), undeliverable \(Self.count(s, "undeliverable"))")
        }
    }

    @Test func theDatabaseGoingAwayStopsOnlyCrossNodeDeliveryUntilItIsBack() throws {
        let pg = try ThrowawayPostgres()
        let mesh = try MeshFixture()
        let names = ["a", "b", "c"]
        mesh.signalLists = ["a": [1, 2], "b": [1, 2], "c": [2, 1]]
        try mesh.configure(names, lazy: false)
        for n in 1...2 { try mesh.startNode(n, cluster: pg.url) }
        for name in names { try mesh.startAgent(name) }
        let all = Self.pairs(names)
        #expect(mesh.waitAll(all, "Connected", seconds: 20), "\(mesh.dump())")

        try pg.stop()
        #expect(eventuallyBlocking(seconds: 5) {
            [1, 2].allSatisfy { Self.cluster(mesh.nodeStatus($0))["databaseAvailable"] as? Bool == false }
        }, "\(mesh.dump())")
        // Local delivery goes on: b restarts and meets a again through node 1 alone; a and c keep their path.
        mesh.kill("b")
        try mesh.startAgent("b")
        #expect(mesh.waitAll([("a", "b"), ("b", "a")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(mesh.status("a", "c") == "Connected" && mesh.status("c", "a") == "Connected")
        // b's offers to c cannot cross: refused, and b is told so.
        #expect(eventuallyBlocking(seconds: 10) { Self.count(mesh.nodeStatus(1), "refused") > 0 }, "\(mesh.dump())")
        #expect(mesh.status("b", "c") != "Connected")

        // The database is back: the nodes reconnect, re-sync presence, and b and c connect across.
        try pg.start()
        #expect(eventuallyBlocking(seconds: 10) {
            [1, 2].allSatisfy { Self.cluster(mesh.nodeStatus($0))["databaseAvailable"] as? Bool == true }
        }, "\(mesh.dump())")
        #expect(mesh.waitAll(all, "Connected", seconds: 20), "\(mesh.dump())")
        for (n, here, elsewhere) in [(1, 2, 1), (2, 1, 2)] {
            let s = mesh.nodeStatus(n)
            #expect(Self.count(s, "peersHere") == here && Self.cluster(s)["peersElsewhere"] as? Int == elsewhere, "node \(n): \(s)")
            #expect(Self.cluster(s)["reconnects"] as? Int ?? 0 >= 1, "node \(n): \(s)")
            print("signal cluster: node \(n) across the database outage: refused \(Self.count(s, "refused")), "
                  + "dropped \(Self.cluster(s)["dropped"] ?? [:]), from other nodes dropped \(Self.count(s, "droppedFromOtherNodes"))")
        }
    }

    /// A database that stops answering without closing its connections (every server process stopped): the
    /// node's heartbeat watchdog gives the session up after a node timeout, the node serves its agents alone,
    /// and it joins again once the server answers.
    @Test func aDatabaseThatStopsAnsweringIsGivenUpAndRejoined() throws {
        let pg = try ThrowawayPostgres()
        let mesh = try MeshFixture()
        try mesh.startNode(1, cluster: pg.url)
        #expect(Self.cluster(mesh.nodeStatus(1))["databaseAvailable"] as? Bool == true)
        try pg.signalServer(SIGSTOP)
        #expect(eventuallyBlocking(seconds: 10) { Self.cluster(mesh.nodeStatus(1))["databaseAvailable"] as? Bool == false },
                "\(mesh.dump())")
        #expect(mesh.log("node1-1").contains("no heartbeat round for 3.0 seconds; closing the database connection"), "\(mesh.dump())")
        try pg.signalServer(SIGCONT)
        #expect(eventuallyBlocking(seconds: 20) {
            let s = Self.cluster(mesh.nodeStatus(1))
            return s["databaseAvailable"] as? Bool == true && (s["reconnects"] as? Int ?? 0) >= 1
        }, "\(mesh.dump())")
    }

    /// `icestat bench signal` at a small size: every figure printed, nothing lost.
    @Test func theSignalBenchPrintsEveryFigureAndLosesNothing() throws {
        let r = try Harness.icestat(["bench", "signal", "--agents", "60", "--register", "90", "--messages", "600",
                                     "--rate", "200", "--seconds", "1", "--node-timeout", "1s"], timeout: 120)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for row in ["registration of 60 agents", "sealed messages/s, same node", "sealed messages/s, across nodes",
                    "latency p50 / p99 at 200/s, same node", "latency p50 / p99 at 200/s, across nodes",
                    "  its agents registered on their next node after", "  their 40 watchers all told them online again after",
                    "registration of 90 agents across three nodes:"] {
            #expect(lines.contains { $0.hasPrefix(row) }, "no '\(row)' in:\n\(r.stdout)")
        }
        #expect(lines.contains { $0.hasPrefix("messages lost") && $0.split(separator: " ").suffix(2) == ["0", "0"] }, "\(r.stdout)")
        #expect(!r.stdout.contains("more than"), "\(r.stdout)")
    }
}
