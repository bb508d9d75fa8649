import ICETestSupport
import Foundation
import Testing

/// `icestat up` applying a changed config while it runs (NetBird's network-map updates), as separate processes.
@Suite("Config reload", .serialized, .timeLimit(.minutes(3)))
struct ConfigReloadTests {
    /// Whether something else may bind 127.0.0.1:`port` over UDP (so nobody holds it).
    static func portIsFree(_ port: Int) -> Bool { (try? UDPProbe(port: port)) != nil }

    static func lastStatusUpdate(_ mesh: MeshFixture, _ agent: String, _ peer: String) -> String? {
        mesh.peers(agent)[peer]?["lastStatusUpdate"] as? String
    }

    @Test func aPeerAddedToARunningAgentGetsItsPortAndConnectsAndAMovedPortMovesOnlyThatPeer() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob", "cat"], lazy: false)
        try mesh.writeConfig("ann", peers: ["bob"], lazy: false)
        try mesh.startSignal()
        for name in ["ann", "bob", "cat"] { try mesh.startAgent(name) }
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann"), ("bob", "cat"), ("cat", "bob")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(mesh.peers("ann")["cat"] == nil)
        let bobSince = Self.lastStatusUpdate(mesh, "ann", "bob")

        // The file changes on disk: cat appears with its port and connects; bob's connection is untouched.
        try mesh.writeConfig("ann", peers: ["bob", "cat"], lazy: false)
        #expect(eventuallyBlocking(seconds: 5) { mesh.log("ann").contains("config reloaded (the file changed): added cat") }, "\(mesh.dump())")
        #expect(mesh.waitAll([("ann", "cat"), ("cat", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(!Self.portIsFree(mesh.port("ann", "cat")))
        let app = try UDPProbe(), catService = try UDPProbe(port: mesh.servicePort("cat", "ann"))
        app.send("to cat", to: mesh.port("ann", "cat"))
        #expect(catService.receive(seconds: 5)?.0 == "to cat", "\(mesh.dump())")
        #expect(Self.lastStatusUpdate(mesh, "ann", "bob") == bobSince)

        // bob's local port moves: the old one is released, the new one carries bob's traffic, cat keeps its own.
        let oldPort = mesh.port("ann", "bob"), newPort = oldPort + 5
        try mesh.writeConfig("ann", peers: ["bob", "cat"], lazy: false, ports: ["bob": newPort])
        #expect(eventuallyBlocking(seconds: 5) { mesh.log("ann").contains("moved bob") }, "\(mesh.dump())")
        #expect(Self.portIsFree(oldPort))
        let bobService = try UDPProbe(port: mesh.servicePort("bob", "ann"))
        app.send("to bob", to: newPort)
        #expect(bobService.receive(seconds: 5)?.0 == "to bob", "\(mesh.dump())")
        app.send("cat again", to: mesh.port("ann", "cat"))
        #expect(catService.receive(seconds: 5)?.0 == "cat again")
        #expect(Self.lastStatusUpdate(mesh, "ann", "bob") == bobSince)
        #expect(mesh.status("ann", "bob") == "Connected")
    }

    @Test func aRemovedPeerOnSIGHUPIsClosedItsPortReleasedAndItsRemoteTold() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob", "cat"], lazy: false)
        try mesh.startSignal()
        // No polling: only SIGHUP reloads this agent.
        try mesh.startAgent("ann", arguments: ["--config-poll", "0"])
        try mesh.startAgent("bob")
        try mesh.startAgent("cat")
        #expect(mesh.waitAll([("ann", "bob"), ("ann", "cat"), ("cat", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
        let catPort = mesh.port("ann", "cat")
        #expect(!Self.portIsFree(catPort))

        try mesh.writeConfig("ann", peers: ["bob"], lazy: false)
        Thread.sleep(forTimeInterval: 1.5)
        #expect(mesh.peers("ann")["cat"] != nil, "reloaded without SIGHUP")
        kill(mesh.agents["ann"]!.process!.pid, SIGHUP)
        #expect(eventuallyBlocking(seconds: 5) { mesh.log("ann").contains("config reloaded (SIGHUP): removed cat") }, "\(mesh.dump())")
        #expect(eventuallyBlocking(seconds: 5) { mesh.peers("ann")["cat"] == nil && !mesh.peers("ann").isEmpty })
        #expect(Self.portIsFree(catPort))
        // cat was told: ann went idle for it (it does not retry on its own).
        #expect(eventuallyBlocking(seconds: 5) { mesh.status("cat", "ann") == "Idle" }, "\(mesh.dump())")
        #expect(mesh.peers("cat")["ann"]?["reason"] as? String == "remote went idle")
        #expect(mesh.status("ann", "bob") == "Connected")
    }

    @Test func aPeerCarryingDatagramsKeepsEveryOneAcrossAReloadThatAddsRemovesAndRenames() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob", "cat", "dan"], lazy: false)
        try mesh.writeConfig("ann", peers: ["bob", "cat"], lazy: false)
        try mesh.startSignal()
        for name in ["ann", "bob", "cat", "dan"] { try mesh.startAgent(name) }
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann"), ("ann", "cat")], "Connected", seconds: 15), "\(mesh.dump())")
        let since = Self.lastStatusUpdate(mesh, "ann", "bob")

        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("bob", "ann"))
        let count = 300
        let sender = UncheckedBox((app, mesh.port("ann", "bob")))
        Thread {
            for i in 1...count {
                sender.value.0.send("datagram \(i)", to: sender.value.1)
                Thread.sleep(forTimeInterval: 0.01)
            }
        }.start()
        Thread.sleep(forTimeInterval: 0.5)
        // Mid-stream: dan added, cat removed, bob renamed.
        try mesh.writeConfig("ann", peers: ["bob", "dan"], lazy: false, names: ["bob": "bobby"])
        var received: [String] = []
        while received.count < count, let (text, _) = service.receive(seconds: 3) { received.append(text) }
        #expect(received == (1...count).map { "datagram \($0)" }, "got \(received.count) of \(count)\n\(mesh.dump())")
        #expect(eventuallyBlocking(seconds: 5) { mesh.log("ann").contains("added dan; removed cat; updated bobby") }, "\(mesh.dump())")
        #expect(mesh.peers("ann")["bobby"]?["lastStatusUpdate"] as? String == since)
        #expect(mesh.peers("ann")["bobby"]?["status"] as? String == "Connected")
        #expect(mesh.waitAll([("ann", "dan")], "Connected", seconds: 15), "\(mesh.dump())")
    }

    @Test func aBrokenConfigOnReloadIsReportedAndChangesNothingAndLazyTogglesApplyToEveryPeer() throws {
        let mesh = try MeshFixture()
        try mesh.configure(["ann", "bob", "cat"], lazy: true)
        try mesh.startSignal()
        for name in ["ann", "bob", "cat"] { try mesh.startAgent(name) }
        #expect(eventuallyBlocking(seconds: 8) { mesh.peers("ann")["bob"]?["reason"] as? String == "lazy: idle until traffic" }, "\(mesh.dump())")
        #expect(mesh.status("ann", "bob") == "Idle" && mesh.status("ann", "cat") == "Idle")

        // Lazy off: every peer connects at once, as NetBird's option does.
        try mesh.writeConfig("ann", peers: ["bob", "cat"], lazy: false)
        #expect(mesh.waitAll([("ann", "bob"), ("ann", "cat")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(eventuallyBlocking(seconds: 3) { mesh.agentJSON("ann")["lazyConnections"] as? Bool == false })

        // A broken file: nothing changes, the problem is in the log, the report and the JSON.
        let good = try String(contentsOfFile: mesh.agents["ann"]!.config, encoding: .utf8)
        let broken = good.replacingOccurrences(of: mesh.agents["cat"]!.publicKey, with: "not-a-key")
        try broken.write(toFile: mesh.agents["ann"]!.config, atomically: true, encoding: .utf8)
        let expected = "ann.yaml: peers[1].public_key: not a base64 32-byte key"
        #expect(eventuallyBlocking(seconds: 5) { mesh.agentJSON("ann")["configError"] as? String == expected }, "\(mesh.dump())")
        #expect(mesh.log("ann").contains("config reload failed: \(mesh.agents["ann"]!.config): peers[1].public_key: not a base64 32-byte key; still running with the previous config"))
        let detail = try Harness.icestat(["--detail", "--socket", mesh.agents["ann"]!.socket])
        #expect(detail.stdout.contains("Config reload failed: \(expected) (running with the previous config)"), "\(detail.stdout)")
        #expect(mesh.status("ann", "bob") == "Connected" && mesh.status("ann", "cat") == "Connected")
        #expect(!Self.portIsFree(mesh.port("ann", "cat")))

        // A good one again: the error is gone; lazy back on applies to the connected peers too (2 s without
        // traffic and they go Idle).
        try mesh.writeConfig("ann", peers: ["bob", "cat"], lazy: true, inactivity: "2s")
        #expect(eventuallyBlocking(seconds: 5) { mesh.agentJSON("ann")["configError"] is NSNull }, "\(mesh.dump())")
        #expect(eventuallyBlocking(seconds: 10) { mesh.status("ann", "bob") == "Idle" && mesh.status("ann", "cat") == "Idle" }, "\(mesh.dump())")
    }
}

/// Hands a test's endpoint to the thread that sends on it; only that thread uses it meanwhile.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
