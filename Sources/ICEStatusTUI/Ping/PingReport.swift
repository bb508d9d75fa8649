/// The words `icestat ping` prints for each line from the agent, and its summary, as ping does.
struct PingReport {
    let peer: String
    let untilDirect: Bool
    private(set) var sent = 0
    private(set) var received = 0
    private(set) var lastDirect = false
    private var rtts: [Int64] = []
    /// Set when the agent refused or stopped the ping.
    private(set) var failure: String?

    init(peer: String, untilDirect: Bool) {
        self.peer = peer
        self.untilDirect = untilDirect
    }

    /// The line to print for `line` (nil for none), counting it.
    mutating func take(_ line: PingLine) -> String? {
        switch line {
        case .woke(let name, let was, let ms):
            return was == "Idle" ? "\(name) was Idle: woken, connected in \(ms) ms" : "\(name) was \(was): connected in \(ms) ms"
        case .pong(let name, _, let nanos, _, let remote, let remoteType, let relay, let relayed):
            sent += 1
            received += 1
            rtts.append(nanos)
            lastDirect = !relayed
            let via = relayed ? (relay ?? "relay \(remote)") + " (relayed)" : "\(remoteType) \(remote) (direct)"
            return "pong from \(name) via \(via) in \(StatusFormatting.latency(nanos))"
        case .lost(let name, let sequence, let why):
            sent += 1
            return "no pong from \(name) for ping \(sequence): \(why)"
        case .directAttempt(let name):
            return "\(name) is relayed: trying a direct path now"
        case .failed(let message):
            failure = message
            return nil
        case .end:
            return nil
        }
    }

    /// Lines after the last pong: counts, loss and round trips.
    var summary: [String] {
        guard failure == nil else { return [] }
        let lost = sent == 0 ? 0 : (sent - received) * 100 / sent
        var lines = ["--- \(peer) ping ---", "\(sent) sent, \(received) received, \(lost)% lost"]
        if let lo = rtts.min(), let hi = rtts.max() {
            let avg = rtts.reduce(0, +) / Int64(rtts.count)
            func ms(_ n: Int64) -> String { String(StatusFormatting.latency(n).dropLast(3)) }
            lines.append("rtt min/avg/max = \(ms(lo))/\(ms(avg))/\(ms(hi)) ms")
        }
        if untilDirect, !lastDirect { lines.append("direct connection not established") }
        return lines
    }

    /// 0 when a pong came (a direct one, with --until-direct); 1 otherwise.
    var exitCode: Int32 { failure == nil && received > 0 && (!untilDirect || lastDirect) ? 0 : 1 }
}
