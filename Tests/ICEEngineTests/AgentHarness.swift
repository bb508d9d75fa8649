import ICETestSupport
import NIOCore
import NIOPosix
import Synchronization
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// Records an agent's events and waits, with a bound, for conditions on them.
final class EventLog: Sendable {
    private let events = Mutex<[ICEAgentEvent]>([])

    func append(_ e: ICEAgentEvent) { events.withLock { $0.append(e) } }

    var all: [ICEAgentEvent] { events.withLock { $0 } }

    var states: [ICEConnectionState] {
        all.compactMap { if case .stateChanged(let s) = $0 { s } else { nil } }
    }

    var selected: SelectedPair? {
        all.compactMap { if case .selectedPairChanged(let p) = $0 { p } else { nil } }.last
    }

    var roundTrips: [Duration] {
        all.compactMap { if case .roundTrip(let d) = $0 { d } else { nil } }
    }

    var localCandidates: [Candidate] {
        all.compactMap { if case .localCandidate(let c) = $0 { c } else { nil } }
    }

    /// Polls until `condition` holds or `seconds` pass.
    func wait(seconds: Double, _ condition: (EventLog) -> Bool) async -> Bool {
        await eventually(seconds: seconds) { condition(self) }
    }
}

/// Makes agents on loopback.
enum AgentFactory {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    static func make(_ role: ICERole, configure: (inout ICEAgentConfiguration) -> Void = { _ in }) -> (ICEAgent, EventLog) {
        var config = ICEAgentConfiguration.loopback()
        config.checkInterval = .milliseconds(10)
        configure(&config)
        let log = EventLog()
        let agent = ICEAgent(role: role, configuration: config, eventLoop: group.next()) { log.append($0) }
        return (agent, log)
    }

    static func exchange(_ a: ICEAgent, _ b: ICEAgent, candidatesFirst: Bool = false) async throws {
        let ca = try await a.gather().get()
        let cb = try await b.gather().get()
        if candidatesFirst {
            ca.forEach(b.addRemoteCandidate)
            cb.forEach(a.addRemoteCandidate)
            try await Task.sleep(for: .milliseconds(100))
        }
        a.setRemoteCredentials(b.localCredentials)
        b.setRemoteCredentials(a.localCredentials)
        if !candidatesFirst {
            ca.forEach(b.addRemoteCandidate)
            cb.forEach(a.addRemoteCandidate)
        }
    }
}
