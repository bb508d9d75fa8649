import NIOEmbedded
import Signal
import Synchronization
import Testing
@testable import SignalCluster

/// Where a node believes the agents of other nodes are, as presence notices and a join's re-read rows meet.
struct ClusterPresenceTests {
    let a = [UInt8](repeating: 1, count: 32), b = [UInt8](repeating: 2, count: 32), c = [UInt8](repeating: 3, count: 32)

    /// Records what the cluster tells the node's watchers.
    final class RecordingNode: SignalLocalNode {
        struct Change: Equatable { var key: [UInt8]; var online: Bool; var node: String }
        let changes = Mutex<[Change]>([])
        func registeredKeys() -> [[UInt8]] { [] }
        func deliverFromCluster(_ body: [UInt8], from sender: [UInt8], to receiver: [UInt8]) -> Bool { false }
        func remotePresenceChanged(_ key: [UInt8], online: Bool, node: String) {
            changes.withLock { $0.append(Change(key: key, online: online, node: node)) }
        }
    }

    /// A cluster node that never connects: its notices are fed by hand.
    private func cluster(_ node: RecordingNode) throws -> PostgresSignalCluster {
        let cluster = PostgresSignalCluster(
            configuration: .init(database: try ClusterDatabaseURL("postgres://icestat@127.0.0.1:1/db"), nodeID: "n2",
                                 advertisedAddress: "127.0.0.1:1"),
            eventLoop: EmbeddedEventLoop())
        cluster.state.withLock { $0.node = node }
        return cluster
    }

    private func hear(_ notices: ClusterNotice..., on cluster: PostgresSignalCluster) {
        _ = cluster.handlePresence(notices.map(\.line).joined(separator: "\n"))
    }

    /// Another node re-joining while this one re-reads the table: its rows were read before its notices came, and
    /// the notices win. A clean-clone CI run saw an agent taken back offline this way, for good.
    @Test func noticesHeardWhileAJoinReadsTheRowsAreKeptOverThem() throws {
        let node = RecordingNode()
        let cluster = try cluster(node)
        hear(.online(node: "n1", key: b), on: cluster)
        cluster.beginJoin()
        hear(.online(node: "n1", key: a), .offline(node: "n1", key: b), .online(node: "n3", key: c), .dead(node: "n3"), on: cluster)
        cluster.replaceElsewhere(with: [b: "n1", c: "n3"]) // read before any of those notices
        #expect(cluster.isOnlineElsewhere(a))
        #expect(!cluster.isOnlineElsewhere(b))
        #expect(!cluster.isOnlineElsewhere(c))
        #expect(node.changes.withLock { $0 } == [
            .init(key: b, online: true, node: "n1"), .init(key: a, online: true, node: "n1"), .init(key: b, online: false, node: "n1"),
            .init(key: c, online: true, node: "n3"), .init(key: c, online: false, node: "n3"),
        ]) // and nothing more from the re-read: it changed nothing the notices had not said
    }

    /// Outside a join, the rows are the truth: what they no longer hold goes offline, what is new comes online.
    @Test func aJoinWithNoNoticesMeanwhileTakesTheRows() throws {
        let node = RecordingNode()
        let cluster = try cluster(node)
        hear(.online(node: "n1", key: a), on: cluster)
        cluster.beginJoin()
        cluster.replaceElsewhere(with: [b: "n1"])
        hear(.online(node: "n1", key: c), on: cluster) // after the join: applied, and no longer journaled
        cluster.beginJoin()
        cluster.replaceElsewhere(with: [b: "n1", c: "n1"])
        #expect(!cluster.isOnlineElsewhere(a) && cluster.isOnlineElsewhere(b) && cluster.isOnlineElsewhere(c))
        #expect(node.changes.withLock { $0 } == [
            .init(key: a, online: true, node: "n1"), .init(key: a, online: false, node: "n1"), .init(key: b, online: true, node: "n1"),
            .init(key: c, online: true, node: "n1"),
        ])
    }
}
