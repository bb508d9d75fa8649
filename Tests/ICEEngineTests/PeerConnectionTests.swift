import Foundation
import NIOCore
import StatusRecorder
import Synchronization
import Testing
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

@Suite(.serialized, .timeLimit(.minutes(1)))
struct PeerConnectionTests {
    final class Counter: Sendable {
        let value = Mutex(0)
        func add() { value.withLock { $0 += 1 } }
        var count: Int { value.withLock { $0 } }
    }

    struct Pair {
        let a: PeerConnection, b: PeerConnection
        let recorderA: StatusRecorder, recorderB: StatusRecorder
        let keyA: String, keyB: String
        let receivedByB: Counter
    }

    func makePair() -> Pair {
        let loop = AgentFactory.group.next()
        var config = ICEAgentConfiguration.loopback()
        config.checkInterval = .milliseconds(10)
        config.consentInterval = .milliseconds(300)
        let signaling = InProcessSignaling(eventLoop: loop)
        let keyA = PeerKey().publicKeyBase64, keyB = PeerKey().publicKeyBase64
        let recorderA = StatusRecorder(), recorderB = StatusRecorder()
        let received = Counter()
        let a = PeerConnection(localKey: keyA, remoteKey: keyB, name: "b", recorder: recorderA, signaling: signaling,
                               configuration: config, eventLoop: loop)
        let b = PeerConnection(localKey: keyB, remoteKey: keyA, name: "a", recorder: recorderB, signaling: signaling,
                               configuration: config, eventLoop: loop, onData: { _ in received.add() })
        signaling.register(a)
        signaling.register(b)
        return Pair(a: a, b: b, recorderA: recorderA, recorderB: recorderB, keyA: keyA, keyB: keyB, receivedByB: received)
    }

    func waitFor(seconds: Double, _ condition: () -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 50) {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func peersConnectAndTheRecorderSeesIt() async throws {
        let p = makePair()
        p.a.open()
        #expect(await waitFor(seconds: 5) { p.recorderA.peer(id: p.keyB)?.state == .connected && p.recorderB.peer(id: p.keyA)?.state == .connected })
        let status = try #require(p.recorderA.peer(id: p.keyB))
        #expect(status.connectionType == .p2p)
        #expect(status.localCandidate?.type == "host" && status.remoteCandidate?.type == "host")
        #expect(await waitFor(seconds: 3) { (p.recorderA.peer(id: p.keyB)?.latencyNanos ?? 0) > 0 })
        #expect(p.recorderA.peer(id: p.keyB)?.candidatePairs.contains { $0.nominated && $0.state == "succeeded" } == true)
        p.a.send(Array("hello".utf8))
        #expect(await waitFor(seconds: 2) { p.receivedByB.count == 1 })
        // Counted on the event loop and reported to the recorder within a quarter second, not per datagram.
        #expect(await waitFor(seconds: 1) { p.recorderA.peer(id: p.keyB)?.bytesSent == 5 })
        #expect(await waitFor(seconds: 1) { p.recorderB.peer(id: p.keyA)?.bytesReceived == 5 })
        try await p.a.close().get()
        try await p.b.close().get()
        #expect(p.recorderA.peer(id: p.keyB)?.state == .idle)
    }

    @Test func iceRestartKeepsThePathUntilTheNewOneIsSelected() async throws {
        let p = makePair()
        p.a.open()
        #expect(await waitFor(seconds: 5) { p.recorderA.peer(id: p.keyB)?.state == .connected && p.recorderB.peer(id: p.keyA)?.state == .connected })
        let before = try #require(p.recorderA.peer(id: p.keyB)?.localCandidate)
        // Data flows every 10 ms through the restart; the state must never leave Connected.
        let pump = Task {
            for _ in 0..<150 {
                p.a.send(Array("tick".utf8))
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let sentBefore = p.receivedByB.count
        p.a.restart()
        var states: Set<PeerConnectionState> = []
        var changed = false
        for _ in 0..<100 {
            if let s = p.recorderA.peer(id: p.keyB) {
                states.insert(s.state)
                if let now = s.localCandidate, now != before { changed = true }
            }
            if let s = p.recorderB.peer(id: p.keyA) { states.insert(s.state) }
            try await Task.sleep(for: .milliseconds(10))
        }
        await pump.value
        #expect(states == [.connected], "the restart must not drop the peer out of Connected")
        #expect(changed, "a new session, with new sockets, was selected")
        // Nearly every tick arrived: the old path carried data until the new one took over.
        let delivered = p.receivedByB.count
        #expect(delivered > sentBefore)
        #expect(delivered >= 140, "delivered \(delivered) of 150")
        try await p.a.close().get()
        try await p.b.close().get()
    }
}
