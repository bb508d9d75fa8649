/// One line the agent sends back for a ping request, tab-separated, as it happens.
enum PingLine: Equatable {
    /// The peer was not connected (`was`: its state then, Idle or Connecting): connected after this long.
    case woke(peer: String, was: String, millis: Int64)
    /// A pong: its round trip and the path it took.
    case pong(peer: String, sequence: Int, nanos: Int64, local: String, remote: String, remoteType: String, relay: String?, relayed: Bool)
    /// No pong for this ping.
    case lost(peer: String, sequence: Int, why: String)
    /// The path was relayed: a direct attempt started (`--until-direct`).
    case directAttempt(peer: String)
    /// The ping could not start or go on.
    case failed(String)
    /// No more lines.
    case end

    var encoded: String {
        func clean(_ s: String) -> String { String(s.map { $0 == "\t" || $0 == "\n" ? " " : $0 }) }
        let fields: [String]
        switch self {
        case .woke(let peer, let was, let ms): fields = ["woke", peer, was, String(ms)]
        case .pong(let peer, let seq, let nanos, let local, let remote, let remoteType, let relay, let relayed):
            fields = ["pong", peer, String(seq), String(nanos), local, remote, remoteType, relay ?? "", relayed ? "1" : "0"]
        case .lost(let peer, let seq, let why): fields = ["lost", peer, String(seq), why]
        case .directAttempt(let peer): fields = ["direct-attempt", peer]
        case .failed(let message): fields = ["failed", message]
        case .end: fields = ["end"]
        }
        return fields.map(clean).joined(separator: "\t") + "\n"
    }

    init?(line: Substring) {
        let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        switch f.first {
        case "woke": guard f.count == 4, let ms = Int64(f[3]) else { return nil }; self = .woke(peer: f[1], was: f[2], millis: ms)
        case "pong":
            guard f.count == 9, let seq = Int(f[2]), let nanos = Int64(f[3]) else { return nil }
            self = .pong(peer: f[1], sequence: seq, nanos: nanos, local: f[4], remote: f[5], remoteType: f[6],
                         relay: f[7].isEmpty ? nil : f[7], relayed: f[8] == "1")
        case "lost": guard f.count == 4, let seq = Int(f[2]) else { return nil }; self = .lost(peer: f[1], sequence: seq, why: f[3])
        case "direct-attempt": guard f.count == 2 else { return nil }; self = .directAttempt(peer: f[1])
        case "failed": guard f.count == 2 else { return nil }; self = .failed(f[1])
        case "end": self = .end
        default: return nil
        }
    }
}
