import Foundation
import ICEEngine
import NIOCore
import Synchronization

/// The state machine behind `icestat probe`: prints its side of the protocol, applies the remote's lines,
/// runs the echo exchange, and finishes with an exit status.
final class ProbeSession: Sendable {
    static let pings = 5

    private let agent: ICEAgent
    private let finished = Mutex<CheckedContinuation<Int32, Never>?>(nil)
    private let state = Mutex(State())

    private struct State {
        var selected: SelectedPair?
        var announced = false
        /// The role once connected (after any role conflict): the controlling side sends the pings.
        var role: ICERole?
        var echoed = Set<String>()
        /// Pings that arrived before our pair was selected, echoed once it is.
        var pendingEchoes: [[UInt8]] = []
        var finished = false
    }

    init(role: ICERole, configuration: ICEAgentConfiguration, group: EventLoopGroup) {
        let box = EventBox()
        agent = ICEAgent(role: role, configuration: configuration, eventLoop: group.next()) { box.session?.handle($0) }
        box.session = self
    }

    /// Runs until `done`, an error, end of input before connecting, or the timeout; returns the exit status.
    func run(timeout: Double) async -> Int32 {
        ProbeOutput.line(["type": "credentials", "ufrag": agent.localCredentials.ufrag, "pwd": agent.localCredentials.pwd])
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            finished.withLock { $0 = continuation }
            agent.gather().whenFailure { error in self.fail("gathering failed: \(error)") }
            ProbeInput.start { line in self.apply(line) }
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                self.fail("timed out after \(timeout) s")
            }
        }
        _ = try? await agent.close().get()
        return status
    }

    private func finish(_ status: Int32) {
        let continuation = finished.withLock { c -> CheckedContinuation<Int32, Never>? in
            defer { c = nil }
            return c
        }
        continuation?.resume(returning: status)
    }

    private func fail(_ message: String) {
        let first = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished
        }
        guard first else { return }
        ProbeOutput.line(["type": "error", "message": message])
        ProbeOutput.log("icestat probe: \(message)")
        finish(1)
    }

    private func succeed(echoed: Int, waited: Int = 0) {
        // `connected` comes first: give a round trip still in flight a moment to be measured.
        if state.withLock({ !$0.announced }), waited < 50 {
            agent.eventLoop.scheduleTask(in: .milliseconds(20)) { self.succeed(echoed: echoed, waited: waited + 1) }
            return
        }
        announceConnected(rtt: nil)
        let first = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished
        }
        guard first else { return }
        ProbeOutput.line(["type": "done", "echoed": echoed])
        // Linger briefly: the last echoes must leave, and a ping the other side sends again still gets its echo.
        agent.eventLoop.scheduleTask(in: .milliseconds(500)) { self.finish(0) }
    }

    // MARK: Remote lines

    private func apply(_ line: String?) {
        guard let line else {
            // End of input: fine once connected (the remote may simply have stopped talking), fatal before.
            if state.withLock({ $0.selected == nil }) { fail("signalling closed before a pair was selected") }
            return
        }
        guard let data = line.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let type = object["type"] as? String else {
            if !line.trimmingCharacters(in: .whitespaces).isEmpty { ProbeOutput.log("icestat probe: ignoring a line that is not a JSON object") }
            return
        }
        switch type {
        case "credentials":
            guard let ufrag = object["ufrag"] as? String, let pwd = object["pwd"] as? String, !ufrag.isEmpty, !pwd.isEmpty else {
                return fail("credentials line without ufrag and pwd")
            }
            agent.setRemoteCredentials(ICECredentials(ufrag: ufrag, pwd: pwd))
        case "candidate":
            guard let text = object["candidate"] as? String else { return }
            do {
                agent.addRemoteCandidate(try Candidate(sdp: text))
            } catch {
                ProbeOutput.log("icestat probe: ignoring candidate: \(error)")
            }
        case "end-of-candidates":
            agent.setRemoteEndOfCandidates()
        case "error":
            fail("remote reported: \(object["message"] as? String ?? "an error")")
        default:
            break // connected, done and unknown kinds need nothing from us
        }
    }

    // MARK: Agent events (on the agent's event loop)

    private func handle(_ event: ICEAgentEvent) {
        switch event {
        case .localCandidate(let candidate):
            ProbeOutput.line(["type": "candidate", "candidate": candidate.sdpString])
        case .gatheringComplete:
            ProbeOutput.line(["type": "end-of-candidates"])
        case .relayAllocated(let server, let relayed):
            ProbeOutput.log("icestat probe: TURN \(server): relayed address \(relayed)")
        case .relayFailed(let server, let reason):
            ProbeOutput.log("icestat probe: TURN \(server): \(reason)")
        case .stunServerResult(let server, let mapped):
            ProbeOutput.log("icestat probe: STUN \(server): " + (mapped.map { "mapped address \($0)" } ?? "no answer"))
        case .selectedPairChanged(let pair):
            state.withLock { $0.selected = pair }
            flushPendingEchoes()
        case .roundTrip(let rtt):
            announceConnected(rtt: rtt)
        case .stateChanged(.failed):
            fail("ICE failed: no candidate pair works")
        case .data(let bytes):
            receive(Array(bytes.readableBytesView))
        default:
            break
        }
    }

    private func announceConnected(rtt: Duration?) {
        let pair = state.withLock { s -> SelectedPair? in
            guard !s.announced, let pair = s.selected else { return nil }
            s.announced = true
            return pair
        }
        guard let pair else { return }
        func end(_ c: Candidate) -> [String: Any] {
            ["type": c.type.rawValue, "address": c.address.ip.description, "port": Int(c.address.port)]
        }
        ProbeOutput.line(["type": "connected", "local": end(pair.local), "remote": end(pair.remote),
                          "rtt_ms": rtt.map { Double($0.nanoseconds) / 1e6 } ?? NSNull()])
        agent.currentRole().whenSuccess { role in
            self.state.withLock { $0.role = role }
            if role == .controlling { self.sendPings(attempt: 0) }
        }
    }

    private func sendPings(attempt: Int) {
        let missing = state.withLock { s in (1...Self.pings).map { "ping-\($0)" }.filter { !s.echoed.contains($0) } }
        guard !missing.isEmpty, attempt < 5 else {
            if !missing.isEmpty { fail("echo incomplete: \(Self.pings - missing.count) of \(Self.pings) came back") }
            return
        }
        for ping in missing { agent.send(Array(ping.utf8)) }
        agent.eventLoop.scheduleTask(in: .seconds(1)) { self.sendPings(attempt: attempt + 1) }
    }

    private func receive(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("ping-") else { return }
        // Only the side that ended up controlled echoes. A ping may arrive before this side has selected its
        // pair (data is accepted from the remote's candidates at once); it is echoed once the pair is selected.
        agent.currentRole().whenSuccess { role in
            if role == .controlled {
                let ready = self.state.withLock { s -> Bool in
                    if s.selected == nil { s.pendingEchoes.append(bytes) }
                    return s.selected != nil
                }
                if ready { self.echo(bytes) }
            } else {
                self.count(text)
            }
        }
    }

    private func echo(_ bytes: [UInt8]) {
        agent.send(bytes)
        count(String(decoding: bytes, as: UTF8.self))
    }

    private func flushPendingEchoes() {
        let pending = state.withLock { s -> [[UInt8]] in
            defer { s.pendingEchoes.removeAll() }
            return s.pendingEchoes
        }
        pending.forEach(echo)
    }

    private func count(_ ping: String) {
        let count = state.withLock { s -> Int in
            s.echoed.insert(ping)
            return s.echoed.count
        }
        if count == Self.pings { succeed(echoed: count) }
    }
}

/// Lets the agent's event callback reach the session, which is created after the agent.
private final class EventBox: @unchecked Sendable {
    // Set once in ProbeSession.init, before the agent can emit anything.
    weak var session: ProbeSession?
}

/// JSON lines on stdout, one write each, so lines never interleave.
enum ProbeOutput {
    static func line(_ object: [String: Any]) {
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        data.append(10)
        StandardOutput.write(Array(data))
    }

    static func log(_ text: String) { StandardOutput.error(text) }
}

/// Reads stdin line by line on its own thread and hands each line (then nil at end of input) to `handler`.
enum ProbeInput {
    static func start(_ handler: @escaping @Sendable (String?) -> Void) {
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { handler(line) }
            handler(nil)
        }
        thread.start()
    }
}
