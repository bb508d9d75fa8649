import Foundation
import ICEStatusTUI
import NIOCore
import ProcessSpawning

/// One `icestat signal` child of `icestat bench signal`, on 127.0.0.1 and a free port, alone or in a cluster.
final class BenchSignalNode {
    let port: Int
    let statusSocket: String
    private var child: ChildProcess?

    init(name: String, directory: String, cluster: String?, nodeTimeout: String) throws {
        port = try ThrowawayPostgres.freePort()
        statusSocket = "\(directory)/\(name).sock"
        var argv = [ProcessTimer.selfPath, "signal", "--listen", "127.0.0.1:\(port)", "--status-socket", statusSocket]
        if let cluster { argv += ["--cluster", cluster, "--cluster-node-id", name, "--cluster-node-timeout", nodeTimeout] }
        child = try ChildProcess(argv, stderr: "\(directory)/\(name).log")
    }

    func status(group: EventLoopGroup) async -> SignalNodeStatus? {
        try? await SignalStatusSocket.fetch(path: statusSocket, group: group)
    }

    /// Waits until the node answers on its status socket and, in a cluster, sees `nodes` nodes and its database.
    func waitReady(nodes: Int?, group: EventLoopGroup, timeout: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let s = await status(group: group) {
                guard let nodes else { return }
                if let c = s.cluster, c.databaseAvailable, c.nodes.count == nodes { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError.missing("signal node on port \(port) ready within \(timeout) (see its log beside \(statusSocket))")
    }

    /// SIGKILL: the node vanishes without a word to the others.
    func kill() {
        guard var c = child else { return }
        Foundation.kill(c.pid, SIGKILL)
        _ = c.wait()
        child = nil
    }

    func stop() {
        child?.stop()
        child = nil
    }

    deinit { stop() }
}
