import ICETestSupport
import Foundation
import Testing

/// `icestat demo` shows every kind of row, with real agents, a real signal server and (coturn being installed
/// by the test command) a real relay: busy peers Connected P2P, relayed ones with their reason, lazy ones that
/// wake on traffic and go Idle again, and a remote that leaves and comes back.
@Suite("Demo", .serialized, .timeLimit(.minutes(2)))
struct DemoTests {
    static func peers(_ socket: String) -> [String: [String: Any]] {
        guard let r = try? Harness.icestat(["--json", "--events", "30", "--socket", socket], timeout: 10), r.status == 0,
              let doc = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any],
              let peers = (doc["peers"] as? [String: Any])?["details"] as? [[String: Any]] else { return [:] }
        return Dictionary(uniqueKeysWithValues: peers.map { ($0["name"] as! String, $0) })
    }

    static func messages(_ peer: [String: Any]?) -> [String] {
        (peer?["events"] as? [[String: Any]] ?? []).compactMap { $0["message"] as? String }
    }

    @Test func everyKindOfRowIsShown() throws {
        let socket = Harness.temporarySocket()
        let demo = try Harness.start(["demo", "--headless", "--socket", socket])
        defer { if demo.isRunning { demo.terminate() }; demo.wait(seconds: 10) }
        var last: [String: [String: Any]] = [:]
        // Busy peers direct; the relayed ones through the demo's coturn, saying why.
        #expect(eventuallyBlocking(seconds: 10) {
            last = Self.peers(socket)
            return ["alpha", "bravo", "charlie"].allSatisfy { last[$0]?["status"] as? String == "Connected" && last[$0]?["connectionType"] as? String == "P2P" }
                && ["delta", "foxtrot"].allSatisfy { last[$0]?["connectionType"] as? String == "Relayed" && last[$0]?["reasonCode"] as? String == "direct-timed-out" }
        }, "\(last)")
        // Their remotes offer relayed candidates only: the pair ends at the relay.
        #expect((last["delta"]?["iceCandidateType"] as? [String: Any])?["remote"] as? String == "relay", "\(String(describing: last["delta"]))")
        let relayedPing = try Harness.icestat(["ping", "delta", "-c", "1", "--socket", socket])
        #expect(relayedPing.status == 0 && relayedPing.stdout.contains(" (relayed) in "), "\(relayedPing)")
        // The lazy peers woke on a burst of traffic, then went Idle for want of more.
        #expect(eventuallyBlocking(seconds: 12) {
            last = Self.peers(socket)
            return ["echo", "golf"].allSatisfy { name in
                let story = Self.messages(last[name])
                guard let wake = story.firstIndex(of: "lazy: traffic arrived, connecting"),
                      let up = story.firstIndex(of: "Connecting → Connected"),
                      // Whichever side's inactivity timer fires first says so; the other hears it.
                      let idle = story.firstIndex(where: { $0 == "Connected → Idle: lazy: idle after 4 s without traffic"
                                                           || $0 == "Connected → Idle: remote went idle" }) else { return false }
                return wake < up && up < idle && story.count { $0 == "lazy: traffic arrived, connecting" } == 1
            }
        }, "\(Self.messages(last["echo"])) \(Self.messages(last["golf"]))")
        let woken = try Harness.icestat(["ping", "golf", "-c", "1", "--socket", socket])
        #expect(woken.status == 0 && woken.stdout.hasPrefix("golf was Idle: woken, connected in "), "\(woken)")
        // hotel's remote leaves at 12 s and comes back 6 s later: Idle "remote offline", then Connected again.
        #expect(eventuallyBlocking(seconds: 25) {
            last = Self.peers(socket)
            let story = Self.messages(last["hotel"])
            guard let away = story.firstIndex(where: { $0.hasSuffix("remote offline") || $0.hasSuffix("remote went idle") }) else { return false }
            return story[away...].contains("Connecting → Connected") && last["hotel"]?["status"] as? String == "Connected"
        }, "\(Self.messages(last["hotel"]))")
        // While it was away its traffic was dropped (counted), not retried every second.
        let hotel = Self.messages(last["hotel"])
        #expect(hotel.count { $0 == "Idle → Connecting" } <= 3, "\(hotel)")
        let drops = (last["hotel"]?["droppedDatagrams"] as? [String: Any])?["reasons"] as? [String: Int] ?? [:]
        #expect((drops["no-path"] ?? 0) >= 3, "\(drops)")
    }
}
