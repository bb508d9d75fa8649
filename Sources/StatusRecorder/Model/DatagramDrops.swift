/// Why the data plane dropped a datagram of a peer.
public enum DatagramDropReason: String, Sendable, Hashable, CaseIterable {
    /// The datagrams kept while connecting were at their limit; the oldest was dropped.
    case bufferFull = "buffer-full"
    /// Nothing could carry it: no path selected, and not connecting (closed, or the remote offline).
    case noPath = "no-path"
    /// From the remote, but no local application has sent yet and the peer has no service.
    case noDestination = "no-destination"
    /// The socket's send queue was full (more offered than the path takes).
    case sendQueueFull = "send-queue-full"
    /// The system refused the send, or the destination answered with an ICMP error.
    case sendFailed = "send-failed"

    /// The words the front ends show.
    public var label: String {
        switch self {
        case .bufferFull: "buffer full while connecting"
        case .noPath: "no path"
        case .noDestination: "no local destination"
        case .sendQueueFull: "send queue full"
        case .sendFailed: "send failed"
        }
    }
}

/// Datagrams dropped for one peer, counted by reason. The counts take no memory until the first drop: every
/// peer's status and traffic tally holds one, and most peers never drop.
public struct DatagramDrops: Sendable, Hashable {
    /// Empty (all zero) or one count per reason.
    private var counts: [UInt64] = []

    public init() {}

    public subscript(reason: DatagramDropReason) -> UInt64 {
        get { counts.isEmpty ? 0 : counts[Self.index(reason)] }
        set {
            if counts.isEmpty {
                if newValue == 0 { return }
                counts = [UInt64](repeating: 0, count: DatagramDropReason.allCases.count)
            }
            counts[Self.index(reason)] = newValue
        }
    }

    /// All drops, whatever the reason.
    public var total: UInt64 { counts.reduce(0, &+) }

    /// The reasons with a count, in declaration order.
    public var nonZero: [(reason: DatagramDropReason, count: UInt64)] {
        DatagramDropReason.allCases.compactMap { self[$0] > 0 ? ($0, self[$0]) : nil }
    }

    public var isEmpty: Bool { counts.allSatisfy { $0 == 0 } }

    /// Adds `other`'s counts to these.
    public mutating func add(_ other: DatagramDrops) {
        if other.counts.isEmpty { return }
        for reason in DatagramDropReason.allCases { self[reason] &+= other[reason] }
    }

    public static func == (a: DatagramDrops, b: DatagramDrops) -> Bool {
        DatagramDropReason.allCases.allSatisfy { a[$0] == b[$0] }
    }

    public func hash(into hasher: inout Hasher) {
        for reason in DatagramDropReason.allCases { hasher.combine(self[reason]) }
    }

    private static func index(_ reason: DatagramDropReason) -> Int {
        switch reason {
        case .bufferFull: 0
        case .noPath: 1
        case .noDestination: 2
        case .sendQueueFull: 3
        case .sendFailed: 4
        }
    }
}
