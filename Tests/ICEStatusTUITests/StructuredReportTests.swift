import Foundation
import ICETestSupport
import StatusRecorder
import Testing
@testable import ICEStatusTUI

struct StructuredReportTests {
    @Test func jsonGolden() throws {
        let text = String(decoding: StructuredReport.render(Fixtures.snapshot(), format: .json), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.prefix(31) == [
            "{",
            "  \"agent\": {",
            "    \"name\": \"demo (loopback)\",",
            "    \"publicKey\": \"TE9DQUw=\",",
            "    \"startedAt\": \"2023-11-14T22:13:40.000Z\",",
            "    \"lazyConnections\": false,",
            "    \"servers\": [",
            "      {",
            "        \"kind\": \"signal\",",
            "        \"address\": \"in-process\",",
            "        \"available\": true,",
            "        \"error\": null",
            "      }",
            "    ],",
            "    \"configError\": null,",
            "    \"nat\": null,",
            "    \"events\": [",
            "      {",
            "        \"time\": \"2023-11-14T22:13:40.000Z\",",
            "        \"kind\": \"server-available\",",
            "        \"server\": \"signal\",",
            "        \"address\": \"in-process\",",
            "        \"message\": \"signal connected: in-process\"",
            "      }",
            "    ]",
            "  },",
            "  \"peers\": {",
            "    \"total\": 3,",
            "    \"connected\": 1,",
            "    \"details\": [",
            "      {",
        ])
        // Valid JSON with the documented keys and units.
        let doc = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        let peers = (doc["peers"] as! [String: Any])["details"] as! [[String: Any]]
        #expect(peers.count == 3)
        #expect(Set(peers[0].keys) == ["name", "publicKey", "status", "lastStatusUpdate", "connectionType", "iceCandidateType",
                                       "iceCandidateEndpoint", "relayAddress", "relayTransport", "latencyMs", "latencySmoothedMs", "transferReceived", "transferSent",
                                       "droppedDatagrams", "lastActivity", "reason", "reasonCode", "nextRetryAt", "ignoredCandidates",
                                       "events"])
        let events = peers[0]["events"] as? [[String: Any]] ?? []
        #expect(events.map { $0["kind"] as? String } == ["state", "path", "state"])
        #expect(events[1]["localType"] as? String == "host" && events[1]["remote"] as? String == "127.0.0.1:40002")
        #expect(events[2]["from"] as? String == "Connecting" && events[2]["to"] as? String == "Connected")
        #expect(events[2]["time"] as? String == "2023-11-14T22:13:45.000Z" && events[2]["peer"] as? String == "alpha")
        #expect((peers[1]["events"] as? [[String: Any]])?.first?["reasonCode"] as? String == "connect-failed")
        #expect((peers[2]["events"] as? [Any])?.isEmpty == true)
        #expect((peers[0]["ignoredCandidates"] as? [String: Any])?["count"] as? Int == 0)
        #expect(((peers[0]["ignoredCandidates"] as? [String: Any])?["candidates"] as? [Any])?.isEmpty == true)
        #expect((doc["agent"] as! [String: Any])["configError"] is NSNull)
        #expect(peers[0]["latencyMs"] as? Double == 0.142)
        #expect(peers[0]["latencySmoothedMs"] as? Double == 0.15)
        #expect(peers[0]["lastStatusUpdate"] as? String == "2023-11-14T22:13:45.000Z")
        #expect(peers[0]["transferReceived"] as? Int == 2048)
        #expect((peers[0]["droppedDatagrams"] as? [String: Any])?["total"] as? Int == 5)
        #expect((peers[0]["droppedDatagrams"] as? [String: Any])?["reasons"] as? [String: Int] == ["buffer-full": 2, "send-queue-full": 3])
        #expect((peers[1]["droppedDatagrams"] as? [String: Any])?["reasons"] as? [String: Int] == [:])
        #expect((peers[0]["iceCandidateType"] as! [String: Any])["local"] as? String == "host")
        #expect(peers[1]["reason"] as? String == "ICE checks failed; no TURN server configured to relay through; retrying every 6 s")
        #expect(peers[1]["reasonCode"] as? String == "connect-failed")
        #expect(peers[1]["connectionType"] is NSNull)
        #expect(peers[1]["nextRetryAt"] as? String == "2023-11-14T22:15:05.200Z")
    }

    @Test func yamlGolden() {
        let text = String(decoding: StructuredReport.render(Fixtures.snapshot(), format: .yaml), as: UTF8.self)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.prefix(61) == [
            "agent:",
            "  name: \"demo (loopback)\"",
            "  publicKey: \"TE9DQUw=\"",
            "  startedAt: \"2023-11-14T22:13:40.000Z\"",
            "  lazyConnections: false",
            "  servers:",
            "    - kind: \"signal\"",
            "      address: \"in-process\"",
            "      available: true",
            "      error: null",
            "  configError: null",
            "  nat: null",
            "  events:",
            "    - time: \"2023-11-14T22:13:40.000Z\"",
            "      kind: \"server-available\"",
            "      server: \"signal\"",
            "      address: \"in-process\"",
            "      message: \"signal connected: in-process\"",
            "peers:",
            "  total: 3",
            "  connected: 1",
            "  details:",
            "    - name: \"alpha\"",
            "      publicKey: \"QUxQSEEta2V5LWJhc2U2NC0wMDAwMDAwMDAwMDA9\"",
            "      status: \"Connected\"",
            "      lastStatusUpdate: \"2023-11-14T22:13:45.000Z\"",
            "      connectionType: \"P2P\"",
            "      iceCandidateType:",
            "        local: \"host\"",
            "        remote: \"host\"",
            "      iceCandidateEndpoint:",
            "        local: \"127.0.0.1:40001\"",
            "        remote: \"127.0.0.1:40002\"",
            "      relayAddress: null",
            "      relayTransport: null",
            "      latencyMs: 0.142",
            "      latencySmoothedMs: 0.150",
            "      transferReceived: 2048",
            "      transferSent: 1000",
            "      droppedDatagrams:",
            "        total: 5",
            "        reasons:",
            "          buffer-full: 2",
            "          send-queue-full: 3",
            "      lastActivity: \"2023-11-14T22:14:59.000Z\"",
            "      reason: null",
            "      reasonCode: null",
            "      nextRetryAt: null",
            "      ignoredCandidates:",
            "        count: 0",
            "        candidates: []",
            "      events:",
            "        - time: \"2023-11-14T22:13:44.000Z\"",
            "          kind: \"state\"",
            "          peer: \"alpha\"",
            "          publicKey: \"QUxQSEEta2V5LWJhc2U2NC0wMDAwMDAwMDAwMDA9\"",
            "          from: \"Idle\"",
            "          to: \"Connecting\"",
            "          reasonCode: null",
            "          message: \"Idle → Connecting\"",
            "        - time: \"2023-11-14T22:13:45.000Z\"",
        ])
    }

    /// The calendar arithmetic against the C library's `gmtime_r`, over the epoch's edges, leap days, the
    /// ends of centuries and 20,000 seeded times from 1900 to 2400, before 1970 included.
    @Test func timestampsMatchTheCLibrary() {
        func reference(_ ms: Int64) -> String {
            var t = time_t((ms - ((ms % 1000) + 1000) % 1000) / 1000)
            var parts = tm()
            gmtime_r(&t, &parts)
            let milli = ((ms % 1000) + 1000) % 1000
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                          parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(milli))
        }
        var times: [Int64] = [0, 1, 999, 1000, -1, -999, -1000, -1001, 951_782_400_000, 951_868_799_999, 4_107_542_400_000,
                              1_700_000_000_000, 1_709_164_800_000, -2_208_988_800_000, 13_569_465_599_999]
        var generator = SeededGenerator(seed: 3339)
        for _ in 0..<20_000 { times.append(Int64.random(in: -2_208_988_800_000...13_569_465_599_999, using: &generator)) }
        let mismatches = times.filter { StructuredReport.rfc3339($0) != reference($0) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).map { ($0, StructuredReport.rfc3339($0), reference($0)) })")
        #expect(StructuredReport.rfc3339(1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
        #expect(StatusEvent.timestamp(1_700_000_000_123) == "2023-11-14 22:13:20.123")
    }

    /// `icestat events --json`: one event per line, keys in the documented order, nulls kept.
    @Test func eventLines() {
        let lines = Fixtures.snapshot().events.prefix(2).map { String(decoding: StructuredReport.compactJSON($0), as: UTF8.self) }
        #expect(lines == [
            "{\"time\":\"2023-11-14T22:13:40.000Z\",\"kind\":\"server-available\",\"server\":\"signal\",\"address\":\"in-process\",\"message\":\"signal connected: in-process\"}\n",
            "{\"time\":\"2023-11-14T22:13:44.000Z\",\"kind\":\"state\",\"peer\":\"alpha\",\"publicKey\":\"QUxQSEEta2V5LWJhc2U2NC0wMDAwMDAwMDAwMDA9\",\"from\":\"Idle\",\"to\":\"Connecting\",\"reasonCode\":null,\"message\":\"Idle → Connecting\"}\n",
        ])
    }

    /// No peers: empty lists written as `[]` in both formats, and the documents still close.
    @Test func emptyReports() {
        var snapshot = Fixtures.snapshot()
        snapshot.peers = []
        let json = String(decoding: StructuredReport.render(snapshot, format: .json), as: UTF8.self)
        #expect(json.hasSuffix("""
              ]
              },
              "peers": {
                "total": 0,
                "connected": 0,
                "details": []
              }
            }

            """))
        let yaml = String(decoding: StructuredReport.render(snapshot, format: .yaml), as: UTF8.self)
        #expect(yaml.hasSuffix("""
                  message: "signal connected: in-process"
            peers:
              total: 0
              connected: 0
              details: []

            """))
    }

    @Test func stringsAreEscaped() {
        var s = Fixtures.snapshot()
        s.peers[0].name = "quote\" back\\ tab\t nl\n bell\u{07}"
        let json = String(decoding: StructuredReport.render(s, format: .json), as: UTF8.self)
        #expect(json.contains(#""name": "quote\" back\\ tab\t nl\n bell\u0007""#))
    }

    @Test func filtersCombineAndCountsFollow() {
        let s = Fixtures.snapshot()
        #expect(PeerFilter(statuses: [.connected]).apply(s).peers.map(\.name) == ["alpha"])
        #expect(PeerFilter(statuses: [.idle, .connecting]).apply(s).peers.map(\.name) == ["bravo", "charlie"])
        #expect(PeerFilter(connectionTypes: [.relayed]).apply(s).peers.isEmpty)
        #expect(PeerFilter(namePrefixes: ["br", "ch"]).apply(s).peers.map(\.name) == ["bravo", "charlie"])
        #expect(PeerFilter(statuses: [.idle], namePrefixes: ["br", "ch"]).apply(s).peers.map(\.name) == ["charlie"])
        let text = String(decoding: DetailReport.render(PeerFilter(statuses: [.idle]).apply(s), now: Fixtures.now), as: UTF8.self)
        // The agent's events stay; the events of the peers filtered out go with them.
        #expect(text.hasSuffix("Peers count: 0/1 Connected\nEvents:\n  2023-11-14 22:13:40.000  signal connected: in-process\n"))
        #expect(!text.contains("Idle → Connecting"))
    }

    @Test func checks() {
        var s = Fixtures.snapshot()
        #expect(CheckArgument.live.passes(s))
        #expect(!CheckArgument.ready.passes(s)) // bravo is still connecting
        s.peers[1].state = .connected
        #expect(CheckArgument.ready.passes(s))
        s.local.servers[0].available = false
        #expect(!CheckArgument.ready.passes(s))
    }
}
