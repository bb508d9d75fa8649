/// What one peer of the demo shows, and the traffic and comings and goings that make it so.
enum DemoRole: Equatable {
    /// Traffic every second keeps it Connected, P2P.
    case busy
    /// A burst of traffic every ``DemoRole/lazyPeriod`` wakes it; it goes Idle again after the inactivity threshold.
    case lazy
    /// Busy, but its remote leaves (Idle, "remote offline") and comes back (Connecting, Connected).
    case leaving
    /// Busy, through the demo's coturn: its remote may use relayed candidates only.
    case relayed

    static let busyPeriodMillis: Int64 = 1000
    static let lazyPeriodMillis: Int64 = 15_000
    /// A lazy connection with no traffic for this long goes Idle.
    static let inactivity: Duration = .seconds(4)
    /// The leaving remote is away this long, first after ``firstLeaveMillis``, then every ``leavePeriodMillis``.
    static let awayMillis: Int64 = 6000
    static let firstLeaveMillis: Int64 = 12_000
    static let leavePeriodMillis: Int64 = 30_000

    /// Roles for `count` peers: the last ones show a departure, lazy wake-ups and (with a relay) relayed paths;
    /// at least the first is busy. `plain` makes every peer busy.
    static func roles(count: Int, relay: Bool, plain: Bool) -> [DemoRole] {
        var roles = [DemoRole](repeating: .busy, count: count)
        guard !plain else { return roles }
        let specials: [DemoRole] = [.leaving, .lazy, relay ? .relayed : .busy, .lazy, relay ? .relayed : .busy]
        for (offset, role) in specials.prefix(max(0, count - 1)).enumerated() { roles[count - 1 - offset] = role }
        return roles
    }

    /// Whether the leaving remote is away at `millis` since the start.
    static func isAway(atMillis millis: Int64) -> Bool {
        guard millis >= firstLeaveMillis else { return false }
        return (millis - firstLeaveMillis) % leavePeriodMillis < awayMillis
    }
}
