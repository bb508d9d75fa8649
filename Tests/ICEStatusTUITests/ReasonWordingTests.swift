import StatusRecorder
import Testing
@testable import ICEStatusTUI

struct ReasonWordingTests {
    @Test func everyReasonInWords() {
        func words(_ r: PeerReason) -> String { r.words(peerName: "bob", now: 0) }
        #expect(words(.lazyUntilTraffic) == "lazy: idle until traffic")
        #expect(words(.lazyInactive(seconds: 2)) == "lazy: idle after 2 s without traffic")
        #expect(words(.lazyInactive(seconds: 300)) == "lazy: idle after 5 min without traffic")
        #expect(words(.remoteOffline) == "remote offline")
        #expect(words(.remoteIdle) == "remote went idle")
        #expect(words(.agentStopped) == "agent stopped")
        #expect(words(.removedFromConfig) == "removed from the config")
        #expect(words(.networkChanged) == "network changed; reconnecting")
        #expect(words(.consentLost(timeoutMillis: 3000)) == "no consent response for 3 s; reconnecting")
        #expect(words(.consentLost(timeoutMillis: 2750)) == "no consent response for 2.8 s; reconnecting")
        #expect(words(.retrying(attempt: 2)) == "retrying (attempt 2)")
        #expect(words(.relayConnectionLost(transport: "TURN/TCP", server: "turn:a?transport=tcp", error: "reset"))
                == "TURN/TCP connection to turn:a?transport=tcp lost (reset); reconnecting")
        #expect(words(.connectFailed(noCandidatePair: true, relay: .none, retryEverySeconds: 3))
                == "no candidate pair (no usable local address or remote candidate); retrying every 3 s")
        #expect(words(.connectFailed(noCandidatePair: false, relay: .unavailable(server: "turn:x", error: "401"), retryEverySeconds: 6))
                == "ICE checks failed; relay unavailable: turn:x: 401; retrying every 6 s")
        #expect(words(.gatheringFailed(error: "boom")) == "gathering failed: boom")
        #expect(words(.relayOnly) == "relayed: direct paths disabled (relay only)")
        #expect(words(.directTimedOut(relayTransport: nil, udpFailed: false)) == "direct checks timed out, relayed")
        #expect(words(.directTimedOut(relayTransport: "TURN/TCP", udpFailed: false)) == "direct checks timed out, relayed over TURN/TCP")
        #expect(words(.directTimedOut(relayTransport: "TURN/TLS", udpFailed: true))
                == "direct checks timed out; UDP to the TURN server failed; relayed over TURN/TLS")
        #expect(words(.natNeedsRelay(remoteVerdict: "symmetric", localVerdict: "symmetric"))
                == "bob is behind a symmetric NAT and so are we: a direct path needs a relay")
        #expect(words(.natNeedsRelay(remoteVerdict: "symmetric", localVerdict: "udp-blocked"))
                == "bob is behind a symmetric NAT and we are behind a network that blocks UDP: a direct path needs a relay")
        #expect(words(.unrecognized(code: "remote offline")) == "remote offline")
    }

    @Test func theNextDirectAttemptCountsDownWhenShown() {
        var p = PeerStatus(id: "k", name: "bob", stateChangedAtMillis: 0)
        p.state = .connected
        p.reason = .directTimedOut(relayTransport: nil, udpFailed: false)
        p.nextRetryAtMillis = 20_000
        #expect(p.reasonWords(now: 8_000) == "direct checks timed out, relayed; next direct attempt in 12 s")
        #expect(p.reasonWords(now: 14_400) == "direct checks timed out, relayed; next direct attempt in 6 s")
        #expect(p.reasonWords(now: 25_000) == "direct checks timed out, relayed; next direct attempt in 0 s")
        // Not connected: the retry is the session's, shown as Next retry, not in the relayed reason.
        p.state = .connecting
        #expect(p.reasonWords(now: 8_000) == "direct checks timed out, relayed")
    }

    @Test func eventsInWords() {
        func line(_ kind: StatusEvent.Kind, peer: Bool = true) -> String {
            StatusEvent(sequence: 1, atMillis: 1_700_000_100_000, peerID: peer ? "k" : nil, peerName: peer ? "bob" : nil, kind: kind).line
        }
        #expect(line(.stateChanged(from: .connected, to: .connecting, reason: .consentLost(timeoutMillis: 3000)))
                == "2023-11-14 22:15:00.000  bob  Connected → Connecting: no consent response for 3 s; reconnecting")
        #expect(line(.pathChanged(type: .relayed, local: CandidateEndpoint(type: "relay", address: "198.51.100.1:5"),
                                  remote: CandidateEndpoint(type: "host", address: "10.0.0.2:4"), relayServer: "turn:198.51.100.1:3478"))
                == "2023-11-14 22:15:00.000  bob  path: Relayed relay 198.51.100.1:5 ↔ host 10.0.0.2:4 via turn:198.51.100.1:3478")
        #expect(line(.iceRestart(.directAttempt)) == "2023-11-14 22:15:00.000  bob  ICE restart, keeping the path: direct attempt while relayed")
        #expect(line(.relayFallback(nextDirectAtMillis: 1_700_000_112_000)) == "2023-11-14 22:15:00.000  bob  relayed; next direct attempt in 12 s")
        #expect(line(.consentLost(timeoutMillis: 3000)) == "2023-11-14 22:15:00.000  bob  consent lost: no response for 3 s")
        #expect(line(.serverUnavailable(kind: .signal, address: "127.0.0.1:1", error: "connection refused"), peer: false)
                == "2023-11-14 22:15:00.000  agent  signal lost: 127.0.0.1:1 (connection refused)")
        #expect(line(.serverUnavailable(kind: .turn, address: "turn:x", error: nil), peer: false)
                == "2023-11-14 22:15:00.000  agent  TURN server failed: turn:x")
        #expect(line(.natVerdictChanged(from: "symmetric", to: "full-cone"), peer: false)
                == "2023-11-14 22:15:00.000  agent  NAT: full-cone NAT (was symmetric NAT)")
        #expect(StatusEvent.timestamp(0) == "1970-01-01 00:00:00.000")
        #expect(StatusEvent.timestamp(951_782_400_000) == "2000-02-29 00:00:00.000")
    }

    @Test func statusRequestsParseAndPrint() {
        for request in [StatusRequest.snapshot(full: false, events: 0), .snapshot(full: true, events: 5), .watch(counters: false),
                        .watch(counters: true),
                        .events(limit: 100, follow: true, peer: "bob the builder"), .events(limit: 0, follow: false, peer: nil)] {
            #expect(StatusRequest(line: request.line) == request)
        }
        #expect(StatusRequest(line: "snapshot") == .snapshot(full: false, events: 0))
        #expect(StatusRequest(line: "snapshot full") == .snapshot(full: true, events: 0))
        #expect(StatusRequest(line: "watch") == .watch(counters: false))
        #expect(StatusRequest(line: "watch counters") == .watch(counters: true))
        for bad in ["", "snapshot events", "snapshot events -1", "snapshot events 100001", "snapshot fast", "watch now", "watch counters counters",
                    "events", "events x", "events 5 peer", "events 5 backwards", "EVENTS 5"] {
            #expect(StatusRequest(line: bad) == nil, "\(bad)")
        }
    }
}
