/// What `icestat ping` asks the agent for: the status socket line `ping COUNT INTERVAL_MS TIMEOUT_MS
/// UNTIL_DIRECT(0|1) PEER`.
struct PingRequest: Equatable {
    var peer: String
    /// How many pings at most.
    var count: Int
    var intervalMillis: Int
    /// How long each ping waits for its pong.
    var timeoutMillis: Int
    /// Stop at the first direct pong; while relayed, start a direct attempt.
    var untilDirect: Bool

    static let counts = 1...10_000
    static let intervals = 10...60_000
    static let timeouts = 10...60_000

    var line: String { "ping \(count) \(intervalMillis) \(timeoutMillis) \(untilDirect ? 1 : 0) \(peer)" }

    /// Reads the words after `ping`.
    init?(words: [String]) {
        guard words.count >= 5, let count = Int(words[0]), Self.counts.contains(count),
              let interval = Int(words[1]), Self.intervals.contains(interval),
              let timeout = Int(words[2]), Self.timeouts.contains(timeout), words[3] == "0" || words[3] == "1" else { return nil }
        self.init(peer: words[4...].joined(separator: " "), count: count, intervalMillis: interval, timeoutMillis: timeout,
                  untilDirect: words[3] == "1")
    }

    init(peer: String, count: Int, intervalMillis: Int, timeoutMillis: Int, untilDirect: Bool) {
        self.peer = peer
        self.count = count
        self.intervalMillis = intervalMillis
        self.timeoutMillis = timeoutMillis
        self.untilDirect = untilDirect
    }
}
