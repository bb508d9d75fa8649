import Testing
@testable import ICEStatusTUI

struct PingTests {
    @Test func requestsAndLinesCrossTheSocketUnchanged() {
        let request = PingRequest(peer: "bob the builder", count: 3, intervalMillis: 250, timeoutMillis: 2000, untilDirect: true)
        #expect(request.line == "ping 3 250 2000 1 bob the builder")
        #expect(StatusRequest(line: request.line) == .ping(request))
        for bad in ["ping", "ping 0 250 2000 0 bob", "ping 3 5 2000 0 bob", "ping 3 250 2000 2 bob", "ping 3 250 2000 0", "ping x 250 2000 0 bob"] {
            #expect(StatusRequest(line: bad) == nil, "\(bad)")
        }
        let lines: [PingLine] = [
            .woke(peer: "bob", was: "Idle", millis: 812),
            .pong(peer: "bob", sequence: 1, nanos: 420_000, local: "10.0.0.1:4000", remote: "10.0.2.2:40001", remoteType: "host", relay: nil, relayed: false),
            .pong(peer: "bob", sequence: 2, nanos: 1_500_000, local: "203.0.113.10:5000", remote: "10.0.2.2:40001", remoteType: "host",
                  relay: "turn:203.0.113.10:3478", relayed: true),
            .lost(peer: "bob", sequence: 3, why: "no reply in time"), .directAttempt(peer: "bob"), .failed("no peer named zed"), .end,
        ]
        for line in lines { #expect(PingLine(line: Substring(line.encoded.dropLast())) == line) }
        #expect(PingLine(line: "pong\tbob\t1") == nil && PingLine(line: "teleport") == nil)
    }

    @Test func theReportWordsEachPongAndSummarizesLikePing() {
        var report = PingReport(peer: "bob", untilDirect: false)
        #expect(report.take(.woke(peer: "bob", was: "Idle", millis: 812)) == "bob was Idle: woken, connected in 812 ms")
        #expect(report.take(.pong(peer: "bob", sequence: 1, nanos: 420_000, local: "l", remote: "10.0.2.2:40001", remoteType: "host",
                                  relay: nil, relayed: false)) == "pong from bob via host 10.0.2.2:40001 (direct) in 0.420 ms")
        #expect(report.take(.pong(peer: "bob", sequence: 2, nanos: 1_500_000, local: "l", remote: "10.0.2.2:40001", remoteType: "host",
                                  relay: "turn:203.0.113.10:3478", relayed: true)) == "pong from bob via turn:203.0.113.10:3478 (relayed) in 1.500 ms")
        #expect(report.take(.pong(peer: "bob", sequence: 3, nanos: 600_000, local: "l", remote: "198.51.100.7:50000", remoteType: "relay",
                                  relay: nil, relayed: true)) == "pong from bob via relay 198.51.100.7:50000 (relayed) in 0.600 ms")
        #expect(report.take(.lost(peer: "bob", sequence: 4, why: "no reply in time")) == "no pong from bob for ping 4: no reply in time")
        #expect(report.take(.end) == nil)
        #expect(report.summary == ["--- bob ping ---", "4 sent, 3 received, 25% lost", "rtt min/avg/max = 0.420/0.840/1.500 ms"])
        #expect(report.exitCode == 0)
    }

    @Test func untilDirectSucceedsOnlyOnADirectPong() {
        var relayedOnly = PingReport(peer: "bob", untilDirect: true)
        _ = relayedOnly.take(.pong(peer: "bob", sequence: 1, nanos: 1000, local: "l", remote: "r", remoteType: "relay", relay: nil, relayed: true))
        #expect(relayedOnly.take(.directAttempt(peer: "bob")) == "bob is relayed: trying a direct path now")
        #expect(relayedOnly.summary.last == "direct connection not established" && relayedOnly.exitCode == 1)
        var direct = relayedOnly
        _ = direct.take(.pong(peer: "bob", sequence: 2, nanos: 1000, local: "l", remote: "r", remoteType: "host", relay: nil, relayed: false))
        #expect(direct.summary.count == 3 && direct.exitCode == 0)
        var none = PingReport(peer: "bob", untilDirect: false)
        _ = none.take(.lost(peer: "bob", sequence: 1, why: "no reply in time"))
        #expect(none.summary == ["--- bob ping ---", "1 sent, 0 received, 100% lost"] && none.exitCode == 1)
        var refused = PingReport(peer: "zed", untilDirect: false)
        #expect(refused.take(.failed("no peer named zed")) == nil)
        #expect(refused.failure == "no peer named zed" && refused.summary.isEmpty && refused.exitCode == 1)
    }
}
