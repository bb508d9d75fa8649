/// The one request line a status socket client sends.
///
/// - `snapshot [full] [events N]`: one batch, then the server closes; `full` adds latency histories and candidate
///   pairs, `events N` the newest N events of each peer and of the agent.
/// - `watch [counters]`: a full snapshot with the latest events, then one coalesced batch per change; with
///   `counters`, a peer of which only latency or traffic changed comes as a `U` line, not a whole record.
/// - `events N [follow] [peer NAME]`: the newest N events (of one peer, by name or public key), as one batch;
///   with `follow`, then every new one as it is recorded, until the client hangs up.
/// - `ping …`: pings a peer's selected pair (``PingRequest``); the answer is ``PingLine``s.
enum StatusRequest: Equatable {
    case snapshot(full: Bool, events: Int)
    case watch(counters: Bool)
    case events(limit: Int, follow: Bool, peer: String?)
    case ping(PingRequest)

    /// The most events one request may ask for.
    static let eventLimit = 100_000

    init?(line: String) {
        var words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !words.isEmpty else { return nil }
        let verb = words.removeFirst()
        switch verb {
        case "snapshot":
            var full = false, events = 0
            while let word = words.first {
                words.removeFirst()
                if word == "full" { full = true; continue }
                guard word == "events", let n = words.first.flatMap(Int.init), (0...Self.eventLimit).contains(n) else { return nil }
                words.removeFirst()
                events = n
            }
            self = .snapshot(full: full, events: events)
        case "watch":
            guard words.isEmpty || words == ["counters"] else { return nil }
            self = .watch(counters: !words.isEmpty)
        case "events":
            guard let n = words.first.flatMap(Int.init), (0...Self.eventLimit).contains(n) else { return nil }
            words.removeFirst()
            var follow = false
            if words.first == "follow" { follow = true; words.removeFirst() }
            var peer: String?
            if words.first == "peer" {
                words.removeFirst()
                guard !words.isEmpty else { return nil }
                peer = words.joined(separator: " ")
                words.removeAll()
            }
            guard words.isEmpty else { return nil }
            self = .events(limit: n, follow: follow, peer: peer)
        case "ping":
            guard let request = PingRequest(words: words) else { return nil }
            self = .ping(request)
        default:
            return nil
        }
    }

    var line: String {
        switch self {
        case .snapshot(let full, let events): "snapshot" + (full ? " full" : "") + (events > 0 ? " events \(events)" : "")
        case .watch(let counters): counters ? "watch counters" : "watch"
        case .events(let n, let follow, let peer): "events \(n)" + (follow ? " follow" : "") + (peer.map { " peer \($0)" } ?? "")
        case .ping(let request): request.line
        }
    }
}
