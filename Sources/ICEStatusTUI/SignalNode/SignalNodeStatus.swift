import Foundation
import ICEEngine

/// What `icestat signal --status` prints: the node's own counters and, in cluster mode, the cluster's.
package struct SignalNodeStatus: Codable, Equatable {
    var listen: String
    var startedAtMillis: Int64
    /// Agents registered on this node.
    package var peersHere: Int
    var registered: Int
    /// Sealed bodies delivered to agents here (from this node or from others).
    var delivered: Int
    var undeliverable: Int
    var rejectedFrames: Int
    var failedProofs: Int
    var droppedSlowClients: Int
    var forwardedToOtherNodes: Int
    var receivedFromOtherNodes: Int
    var refused: Int
    var droppedFromOtherNodes: Int
    package var cluster: SignalClusterStatus?

    init(listen: String, startedAtMillis: Int64, server: SignalServer, cluster: SignalClusterStatus?) {
        let c = server.counters
        self.listen = listen
        self.startedAtMillis = startedAtMillis
        peersHere = server.sessionCount
        registered = c.registered
        delivered = c.delivered
        undeliverable = c.undeliverable
        rejectedFrames = c.rejectedFrames
        failedProofs = c.failedProofs
        droppedSlowClients = c.droppedSlowClients
        forwardedToOtherNodes = c.forwarded
        receivedFromOtherNodes = c.receivedFromCluster
        refused = c.refused
        droppedFromOtherNodes = c.droppedFromCluster
        self.cluster = cluster
    }

    /// The operator's report.
    func text(nowMillis: Int64) -> String {
        var lines: [String] = []
        let started = "started \(StatusFormatting.timeAgo(startedAtMillis, now: nowMillis))"
        if let cluster {
            lines.append("Signal node \(cluster.nodeID) on \(listen), \(started)")
            lines.append("Cluster: \(cluster.database)")
            let everywhere = peersHere + cluster.peersElsewhere
            lines.append("Peers: \(peersHere) here, \(everywhere) in the cluster")
            lines.append("Nodes: \(cluster.nodes.count)")
            for node in cluster.nodes {
                let me = node.id == cluster.nodeID ? " (this node)" : ""
                lines.append("  \(node.id)  \(node.address)  \(node.peers) peers  heartbeat \(node.heartbeatAgeMillis) ms ago\(me)")
            }
        } else {
            lines.append("Signal node on \(listen) (single node, in memory), \(started)")
            lines.append("Peers: \(peersHere) here")
        }
        lines.append("Registrations: \(registered)")
        lines.append("Messages relayed here: \(delivered - receivedFromOtherNodes)")
        if let cluster {
            lines.append("Messages across nodes: \(forwardedToOtherNodes) sent (in \(cluster.notifications) notifications), \(receivedFromOtherNodes) received")
            lines.append("Database reconnects: \(cluster.reconnects); nodes declared dead: \(cluster.deadNodesDeclared)")
        }
        lines.append("Refused: \(refused) (sender told why); undeliverable (receiver offline): \(undeliverable)")
        var dropped = ["slow client": droppedSlowClients, "receiver left before a message from another node": droppedFromOtherNodes]
        for (reason, count) in cluster?.dropped ?? [:] { dropped[reason, default: 0] += count }
        let total = dropped.values.reduce(0, +)
        lines.append("Dropped: \(total)" + (total == 0 ? "" : " (" + dropped.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { "\($0.key): \($0.value)" }.joined(separator: ", ") + ")"))
        lines.append("Frames rejected: \(rejectedFrames); failed registration proofs: \(failedProofs)")
        return lines.joined(separator: "\n") + "\n"
    }
}
