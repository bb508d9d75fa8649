import Synchronization
import Testing
@testable import StatusRecorder

/// A clock tests move by hand.
final class TestClock: Sendable {
    let now = Mutex<Int64>(1_700_000_000_000)
    func advance(_ ms: Int64) { now.withLock { $0 += ms } }
    var read: @Sendable () -> Int64 { { self.now.withLock { $0 } } }
}

struct StatusRecorderTests {
    @Test func fieldSpecificUpdates() {
        let clock = TestClock()
        let r = StatusRecorder(clock: clock.read)
        r.addPeer(id: "k1", name: "alpha")
        #expect(r.peer(id: "k1")?.state == .idle)
        #expect(r.peer(id: "k1")?.stateChangedAtMillis == 1_700_000_000_000)
        clock.advance(1500)
        r.updateState(id: "k1", .connecting)
        r.updateLatency(id: "k1", nanoseconds: 250_000)
        r.updatePath(id: "k1", type: .p2p, local: CandidateEndpoint(type: "host", address: "127.0.0.1:1"),
                     remote: CandidateEndpoint(type: "host", address: "127.0.0.1:2"))
        clock.advance(500)
        r.updateState(id: "k1", .connected)
        r.addTraffic(id: "k1", received: 100, sent: 40)
        r.addTraffic(id: "k1", received: 1)
        let p = r.peer(id: "k1")!
        #expect(p.state == .connected)
        #expect(p.stateChangedAtMillis == 1_700_000_002_000)
        #expect(p.latencyNanos == 250_000)
        #expect(p.connectionType == .p2p)
        #expect(p.localCandidate?.address == "127.0.0.1:1")
        #expect(p.bytesReceived == 101 && p.bytesSent == 40)
        #expect(p.lastActivityMillis == 1_700_000_002_000)
        // Same state again: the time of change stays.
        clock.advance(1000)
        r.updateState(id: "k1", .connected)
        #expect(r.peer(id: "k1")?.stateChangedAtMillis == 1_700_000_002_000)
        // Leaving Connected clears the path but keeps counters and latency.
        r.updateState(id: "k1", .connecting, reason: .consentLost(timeoutMillis: 3000))
        let q = r.peer(id: "k1")!
        #expect(q.connectionType == nil && q.localCandidate == nil && q.remoteCandidate == nil)
        #expect(q.bytesReceived == 101 && q.latencyNanos == 250_000)
        #expect(q.reason == .consentLost(timeoutMillis: 3000))
        // Updates to unknown peers are ignored.
        r.updateLatency(id: "nobody", nanoseconds: 1)
        #expect(r.peer(id: "nobody") == nil)
    }

    @Test func latencyIsSmoothedAndKeptInAShortHistory() {
        let r = StatusRecorder()
        r.addPeer(id: "k", name: "p")
        r.updateLatency(id: "k", nanoseconds: 100)
        #expect(r.peer(id: "k")?.smoothedLatencyNanos == 100) // the first sample seeds it
        r.updateLatency(id: "k", nanoseconds: 900)
        #expect(r.peer(id: "k")?.latencyNanos == 900)
        #expect(r.peer(id: "k")?.smoothedLatencyNanos == 200) // 100 + (900 - 100) / 8
        for n in 1...100 { r.updateLatency(id: "k", nanoseconds: Int64(n)) }
        #expect(r.peer(id: "k")?.latencyHistoryNanos == (41...100).map(Int64.init)) // the last 60
    }

    @Test func snapshotIsOrderedByName() {
        let r = StatusRecorder()
        for (id, name) in [("3", "charlie"), ("1", "alpha"), ("2", "bravo"), ("0", "alpha")] { r.addPeer(id: id, name: name) }
        #expect(r.snapshot().peers.map(\.id) == ["0", "1", "2", "3"])
        r.removePeer(id: "2")
        #expect(r.snapshot().peers.map(\.name) == ["alpha", "alpha", "charlie"])
    }

    @Test func concurrentWritersLoseNothing() async {
        let r = StatusRecorder()
        for i in 0..<8 { r.addPeer(id: "\(i)", name: "p\(i)") }
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<8 {
                group.addTask { for _ in 0..<1000 { r.addTraffic(id: "\(i)", received: 1, sent: 2) } }
            }
        }
        #expect(r.snapshot().peers.allSatisfy { $0.bytesReceived == 1000 && $0.bytesSent == 2000 })
    }

    @Test func subscriptionStartsWithEverythingThenCoalesces() async {
        let r = StatusRecorder()
        r.addPeer(id: "a", name: "alpha")
        r.addPeer(id: "b", name: "bravo")
        var it = r.subscribe().makeAsyncIterator()
        let first = await it.next()
        #expect(first?.peers.map(\.id) == ["a", "b"])
        #expect(first?.local != nil)
        // A slow subscriber: many updates while it does not read arrive as one change with the latest values.
        for n in 1...10_000 { r.updateLatency(id: "a", nanoseconds: Int64(n)) }
        r.removePeer(id: "b")
        let second = await it.next()
        #expect(second?.peers.count == 1)
        #expect(second?.peers.first?.latencyNanos == 10_000)
        #expect(second?.removedPeerIDs == ["b"])
        #expect(second?.local == nil)
        r.updateLocal { $0.name = "me" }
        let third = await it.next()
        #expect(third?.local?.name == "me")
        #expect(third?.peers.isEmpty == true)
    }

    /// A feed and a subscription side by side: each update reaches both, each holds exactly what changed (the
    /// marks are kept per subscriber, in place), the feed as summaries and without events; the feed's subscriber goes with it.
    @Test func aFeedTakesWhatChangedBesideASubscription() async {
        let r = StatusRecorder()
        r.addPeer(id: "a", name: "alpha")
        r.addPeer(id: "b", name: "bravo")
        var feed: StatusChangeFeed? = r.changeFeed()
        var signals = feed!.signals.makeAsyncIterator()
        var changes = r.subscribe().makeAsyncIterator()
        #expect(r.subscriberCount == 2)
        #expect(await signals.next() != nil)
        #expect(feed!.take().peers.map(\.id).sorted() == ["a", "b"])
        #expect(await changes.next()?.peers.map(\.id) == ["a", "b"])
        for n in 1...1_000 { r.updateLatency(id: "a", nanoseconds: Int64(n)) }
        r.recordEvent(peerID: "a", .lazyWake)
        #expect(await signals.next() != nil)
        let taken = feed!.take()
        #expect(taken.peers.map(\.id) == ["a"] && taken.peers.first?.latencyNanos == 1_000)
        let change = await changes.next()
        #expect(change?.peers.map(\.id) == ["a"])
        #expect(change?.events.map(\.kind) == [.lazyWake])
        r.removePeer(id: "b")
        #expect(feed!.take().removedPeerIDs == ["b"])
        #expect(feed!.take().isEmpty)
        #expect(await changes.next()?.removedPeerIDs == ["b"])
        feed = nil
        #expect(r.subscriberCount == 1)
    }

    /// A mirror takes a batch at once: a peer without history keeps and extends the mirror's, an unchanged one
    /// marks nothing, removals and events come along.
    @Test func aMirrorAppliesABatchAtOnce() {
        let mirror = StatusRecorder(derivesEvents: false)
        var a = PeerStatus(id: "a", name: "alpha", stateChangedAtMillis: 1)
        a.latencyNanos = 10
        a.latencyHistoryNanos = [10]
        let b = PeerStatus(id: "b", name: "bravo", stateChangedAtMillis: 1)
        mirror.mirror(StatusChange(peers: [a, b], local: LocalAgentStatus(name: "agent")))
        let feed = mirror.changeFeed()
        #expect(feed.take().peers.count == 2)
        var newer = a
        newer.latencyHistoryNanos = []
        newer.latencyNanos = 20
        mirror.mirror(StatusChange(peers: [newer, b], removedPeerIDs: [], events: [StatusEvent(sequence: 7, atMillis: 2, peerID: "a", kind: .lazyWake)]))
        let taken = feed.take()
        #expect(taken.peers.map(\.id) == ["a"] && taken.peers.first?.latencyNanos == 20)
        #expect(mirror.peer(id: "a")?.latencyHistoryNanos == [10, 20])
        #expect(mirror.events(limit: 5).map(\.sequence) == [7])
        mirror.mirror(StatusChange(removedPeerIDs: ["b"]))
        #expect(feed.take().removedPeerIDs == ["b"])
        #expect(mirror.snapshot().peers.map(\.id) == ["a"] && mirror.snapshot().local.name == "agent")
    }

    /// A subscription that splits counters: a peer of which only latency or traffic changed comes as its
    /// counters; any other change (a state, drops) brings the whole record, and never both.
    @Test func aSplittingSubscriptionTakesCountersApart() async {
        let r = StatusRecorder(clock: { 5 })
        r.addPeer(id: "a", name: "alpha")
        r.addPeer(id: "b", name: "bravo")
        var changes = r.subscribe(splittingCounters: true).makeAsyncIterator()
        var plain = r.subscribe().makeAsyncIterator()
        #expect(await changes.next()?.peers.map(\.id) == ["a", "b"])
        #expect(await plain.next()?.peers.map(\.id) == ["a", "b"])
        r.updateLatency(id: "a", nanoseconds: 800)
        r.updateLatency(id: "a", nanoseconds: 1_600)
        r.addTraffic(id: "b", received: 10, sent: 20)
        var change = await changes.next()
        var expectedA = PeerCounters(id: "a")
        expectedA.latencyNanos = 1_600
        expectedA.smoothedLatencyNanos = 900 // 800 + (1600 - 800) / 8
        var expectedB = PeerCounters(id: "b")
        (expectedB.bytesReceived, expectedB.bytesSent, expectedB.lastActivityMillis) = (10, 20, 5)
        #expect(change?.peers.isEmpty == true)
        #expect(change?.counters.sorted { $0.id < $1.id } == [expectedA, expectedB])
        #expect(await plain.next()?.peers.map(\.id) == ["a", "b"]) // a plain one still takes whole records
        // A latency, then a state: the whole record. Drops are no counter: the whole record too.
        r.updateLatency(id: "a", nanoseconds: 900)
        r.updateState(id: "a", .connecting)
        var drops = DatagramDrops()
        drops[.noPath] = 1
        r.addTraffic(id: "b", received: 1, sent: 0, drops: drops)
        change = await changes.next()
        #expect(change?.peers.map(\.id) == ["a", "b"] && change?.counters == [])
        #expect(change?.peers.first?.latencyNanos == 900)
        // A state, then a latency: still only the whole record.
        r.updateState(id: "a", .idle)
        r.updateLatency(id: "a", nanoseconds: 950)
        r.updateLatency(id: "b", nanoseconds: 1)
        r.removePeer(id: "b")
        change = await changes.next()
        #expect(change?.peers.map(\.id) == ["a"] && change?.counters == [] && change?.removedPeerIDs == ["b"])
    }

    /// A feed that counts counters leaves them out; one that takes them in peers has their summaries; one that
    /// takes them apart has their counters, by themselves or (most peers) every peer's in display order.
    @Test func aFeedHandsOverCountersAsAsked() {
        let r = StatusRecorder()
        for n in 0..<10 { r.addPeer(id: "p\(n)", name: "peer \(n)") }
        let feed = r.changeFeed()
        #expect(feed.take().peers.count == 10)
        r.updateLatency(id: "p1", nanoseconds: 5)
        r.updateState(id: "p2", .connecting)
        var taken = feed.take(counters: .counted)
        #expect(taken.peers.map(\.id) == ["p2"] && taken.counterChanges == 1 && taken.counters == [] && !taken.isEmpty)
        #expect(feed.take().isEmpty)
        r.updateLatency(id: "p1", nanoseconds: 6)
        taken = feed.take(counters: .inPeers)
        #expect(taken.peers.map(\.id) == ["p1"] && taken.peers.first?.latencyNanos == 6 && taken.counterChanges == 0)
        r.updateLatency(id: "p1", nanoseconds: 7)
        r.addTraffic(id: "p3", received: 10, sent: 20)
        r.updateState(id: "p4", .connecting)
        taken = feed.take(counters: .apart)
        #expect(taken.peers.map(\.id) == ["p4"] && taken.counters.map(\.id).sorted() == ["p1", "p3"] && taken.latenciesInOrder.isEmpty)
        #expect(Set(taken.counters) == [PeerCounters(r.peer(id: "p1")!), PeerCounters(r.peer(id: "p3")!)])
        #expect(r.peer(id: "p1")?.latencyNanos == 7 && r.peer(id: "p3")?.bytesSent == 20)
        #expect(taken.counterChanges == 0 && !taken.isComplete)
        for n in [9, 0, 5, 1, 7, 3] { r.updateLatency(id: "p\(n)", nanoseconds: Int64(100 + n)) }
        taken = feed.take(counters: .apart)
        #expect(taken.peers == [] && taken.counters == [])
        #expect(taken.latenciesInOrder == [100, 101, nil, 103, nil, 105, nil, 107, nil, 109]) // p0 … p9, in display order
        #expect(feed.take(counters: .apart).isEmpty)
    }

    /// Counters mirrored: only those fields change, the latency history grows by a new latency, an unchanged or
    /// unknown peer marks nothing.
    @Test func aMirrorAppliesCounters() {
        let mirror = StatusRecorder(derivesEvents: false)
        var a = PeerStatus(id: "a", name: "alpha", stateChangedAtMillis: 1)
        a.state = .connected
        a.latencyNanos = 10
        a.latencyHistoryNanos = [10]
        mirror.mirror(StatusChange(peers: [a]))
        let feed = mirror.changeFeed()
        _ = feed.take()
        var counters = PeerCounters(a)
        counters.latencyNanos = 30
        counters.bytesSent = 99
        var unknown = PeerCounters(id: "zz")
        unknown.bytesSent = 1
        mirror.mirror(StatusChange(counters: [counters, unknown]))
        var expected = a
        (expected.latencyNanos, expected.bytesSent, expected.latencyHistoryNanos) = (30, 99, [10, 30])
        #expect(mirror.peer(id: "a") == expected)
        #expect(mirror.peer(id: "zz") == nil)
        #expect(feed.take().peers.map(\.id) == ["a"])
        mirror.mirror(StatusChange(counters: [counters]))
        #expect(feed.take().isEmpty)
    }

    @Test func subscriptionEndsWhenDropped() async {
        let r = StatusRecorder()
        do {
            let subscription = r.subscribe()
            #expect(r.subscriberCount == 1)
            _ = subscription
        }
        // AsyncStream termination runs when the stream is released.
        for _ in 0..<50 where r.subscriberCount != 0 { try? await Task.sleep(for: .milliseconds(10)) }
        #expect(r.subscriberCount == 0)
    }
}
