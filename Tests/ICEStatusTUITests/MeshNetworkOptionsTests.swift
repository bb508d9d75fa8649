import Foundation
import ICETestSupport
import Testing

/// `routed_networks` and `ice.port` in running agents (separate processes on loopback).
@Suite("Mesh network options", .serialized, .timeLimit(.minutes(3)))
struct MeshNetworkOptionsTests {
    @Test func aRemoteCandidateInsideARoutedNetworkIsNeverPairedWhileTheOthersConnect() throws {
        let ipv6 = ((try? Harness.run("ip", ["-6", "addr", "show", "lo"], timeout: 5).stdout) ?? "").contains("::1/128")
        guard ipv6 else {
            print("skipped: ::1 is not configured here")
            return
        }
        let mesh = try MeshFixture()
        let ice = "{addresses: [127.0.0.1, \"::1\"], consent_interval: 1s, disconnected_timeout: 3s, failed_timeout: 6s}"
        // ann routes ::1 through the mesh (and has a default route listed, which is never used for this).
        try mesh.configure(["ann", "bob"], lazy: false, extra: ["ann": "routed_networks: [\"::1/128\", 0.0.0.0/0]"], ice: ice)
        try mesh.startSignal()
        try mesh.startAgent("ann")
        try mesh.startAgent("bob")
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(mesh.log("ann").contains("routed_networks[1]: 0.0.0.0/0 is a default route; it is never used to ignore candidates"))
        let peer = mesh.peers("ann")["bob"]
        let remote = (peer?["iceCandidateEndpoint"] as? [String: Any])?["remote"] as? String ?? ""
        #expect(remote.hasPrefix("127.0.0.1:"), "\(mesh.dump())")
        let ignored = peer?["ignoredCandidates"] as? [String: Any]
        #expect(ignored?["count"] as? Int == 1, "\(mesh.dump())")
        let listed = ignored?["candidates"] as? [String] ?? []
        #expect(listed.count == 1 && listed[0].hasPrefix("[::1]:") && listed[0].hasSuffix(" (host) in ::1/128"), "\(listed)")
        // bob ignores nothing; ann's text report names the candidate.
        #expect((mesh.peers("bob")["ann"]?["ignoredCandidates"] as? [String: Any])?["count"] as? Int == 0)
        let detail = try Harness.icestat(["--detail", "--socket", mesh.agents["ann"]!.socket])
        #expect(detail.stdout.contains("Ignored candidates (in routed networks): 1 ([::1]:"), "\(detail.stdout)")
    }

    @Test func iceDotPortPutsEveryHostCandidateOnOneFixedPortAndAPortInUseStopsTheStart() throws {
        let mesh = try MeshFixture()
        let port = Int.random(in: 41000...42000)
        let ice = "{addresses: [127.0.0.1], port: \(port), consent_interval: 1s, disconnected_timeout: 3s, failed_timeout: 6s}"
        try mesh.configure(["ann", "bob", "cat"], lazy: false, extra: ["ice-ann": ice])
        try mesh.startSignal()
        for name in ["ann", "bob", "cat"] { try mesh.startAgent(name) }
        let pairs = [("ann", "bob"), ("bob", "ann"), ("ann", "cat"), ("cat", "ann")]
        #expect(mesh.waitAll(pairs, "Connected", seconds: 15), "\(mesh.dump())")
        for peer in ["bob", "cat"] {
            let endpoints = mesh.peers("ann")[peer]?["iceCandidateEndpoint"] as? [String: Any]
            #expect(endpoints?["local"] as? String == "127.0.0.1:\(port)", "\(mesh.dump())")
            let seen = mesh.peers(peer)["ann"]?["iceCandidateEndpoint"] as? [String: Any]
            #expect(seen?["remote"] as? String == "127.0.0.1:\(port)")
        }
        // Data both ways through the shared port.
        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("cat", "ann"))
        app.send("via the fixed port", to: mesh.port("ann", "cat"))
        #expect(service.receive(seconds: 5)?.0 == "via the fixed port", "\(mesh.dump())")

        // A second agent on the same fixed port does not start, and says why.
        try mesh.configure(["dan"], lazy: false)
        try mesh.writeConfig("dan", peers: ["bob"], lazy: false, ice: ice)
        let r = try Harness.icestat(["up", "--config", mesh.agents["dan"]!.config], timeout: 10)
        #expect(r.status == 1)
        #expect(r.stderr.contains("icestat up: ice.port \(port): cannot bind UDP 127.0.0.1:\(port): "), "\(r.stderr)")
    }
}
