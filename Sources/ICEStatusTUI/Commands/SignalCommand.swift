import ArgumentParser
import Foundation
import ICEEngine
import Logging
import NIOCore
import NIOPosix
import StatusRecorder

/// `icestat signal --listen ADDR:PORT [--cluster URL]`: the signal relay, alone or as one node of a cluster;
/// `icestat signal --status`: what a running node reports.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Run the signal relay through which agents exchange sealed offers and candidates.",
        discussion: """
            Agents register under their public key with a proof that they hold its private key. Message bodies \
            are sealed end to end between agents: this server routes them by key and cannot read or alter them. \
            A malformed or oversized frame closes that one connection; a client that stops reading is dropped.

            Alone, the node keeps everything in memory. With --cluster, several nodes share presence and route \
            to each other through PostgreSQL (LISTEN/NOTIFY): an agent on one node reaches agents on any node, \
            and agents list several nodes in `signal:` to fail over. The database sees keys and ciphertext only.
            """)

    @Option(name: .long, help: ArgumentHelp("Address to listen on.", valueName: "addr:port"))
    var listen: String = "127.0.0.1:7600"

    @Option(name: .long, help: ArgumentHelp("Join a cluster through this PostgreSQL database.",
                                            valueName: "postgres://user@host:port/db"))
    var cluster: String?

    @Option(name: .customLong("cluster-password-file"), help: ArgumentHelp(
        "File holding the database password (else the URL's, else $PGPASSWORD).", valueName: "file"))
    var clusterPasswordFile: String?

    @Option(name: .customLong("cluster-node-id"), help: ArgumentHelp(
        "This node's id in the cluster: letters, digits, - and _ (default: random).", valueName: "id"))
    var clusterNodeID: String?

    @Option(name: .customLong("cluster-node-timeout"), help: ArgumentHelp(
        "A node silent this long is declared dead and its agents offline.", valueName: "duration"))
    var clusterNodeTimeout: String = "10s"

    @Option(name: .long, help: ArgumentHelp("The address agents use for this node, recorded in the cluster (default: --listen).",
                                            valueName: "addr:port"))
    var advertise: String?

    @Option(name: .customLong("status-socket"), help: ArgumentHelp(
        "The node's status socket (default: signal-PORT.sock beside the agent's).", valueName: "path"))
    var statusSocket: String?

    @Flag(name: .long, help: "Print the status of the node running on --listen (or --status-socket), and exit.")
    var status = false

    @Flag(name: .long, help: "With --status: print JSON.")
    var json = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        guard let (host, port) = AgentConfigLoader.hostPort(listen) else {
            throw ValidationError("--listen: expected ADDR:PORT, got '\(listen)'")
        }
        let socketPath = statusSocket ?? SignalStatusSocket.defaultPath(port: port)
        if status { return try await printStatus(path: socketPath) }
        logging.bootstrap()
        let backplaneConfiguration = try clusterConfiguration()
        FileDescriptorLimit.raise()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let backplane = backplaneConfiguration.map {
            PostgresSignalCluster(configuration: $0, eventLoop: group.next(), logger: Logger(label: "icestat.signal"))
        }
        let server: SignalServer
        do {
            server = try await SignalServer.start(host: host, port: port, group: group, backplane: backplane)
        } catch {
            StandardOutput.error("icestat signal: cannot listen on \(listen): \(error)")
            await backplane?.stop()
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        let started = currentTimeMillis()
        let listen = self.listen
        let socket: Channel?
        do {
            socket = try await SignalStatusSocket.serve(path: socketPath, group: group) {
                SignalNodeStatus(listen: listen, startedAtMillis: started, server: server, cluster: await server.backplane?.status())
            }
            Logger(label: "icestat.signal").info("status socket \(socketPath)")
        } catch {
            // The relay runs on without it; the operator learns why `--status` will not answer.
            Logger(label: "icestat.signal").warning("no status socket: \(error)")
            socket = nil
        }
        await SignalWaiter.wait(seconds: nil)
        let c = server.counters
        StandardOutput.error("icestat signal: stopping; registered \(c.registered), delivered \(c.delivered), "
                             + "undeliverable \(c.undeliverable), rejected frames \(c.rejectedFrames), "
                             + "failed proofs \(c.failedProofs), slow clients dropped \(c.droppedSlowClients)"
                             + (backplane == nil ? "" : ", sent to other nodes \(c.forwarded), received from other nodes \(c.receivedFromCluster), refused \(c.refused)"))
        try? await socket?.close()
        unlink(socketPath)
        await server.stop()
        try? await group.shutdownGracefully()
    }

    /// The cluster settings from the options, or nil for a single node.
    private func clusterConfiguration() throws -> PostgresSignalCluster.Configuration? {
        guard let cluster else {
            if clusterPasswordFile != nil || clusterNodeID != nil { throw ValidationError("--cluster-password-file and --cluster-node-id need --cluster") }
            return nil
        }
        var url: ClusterDatabaseURL
        do { url = try ClusterDatabaseURL(cluster) } catch { throw ValidationError("--cluster: \(error)") }
        if let file = clusterPasswordFile {
            guard let text = FileManager.default.contents(atPath: file).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw ValidationError("--cluster-password-file: cannot read \(file)")
            }
            url.password = text.trimmingCharacters(in: .newlines)
        } else if url.password == nil, let env = ProcessInfo.processInfo.environment["PGPASSWORD"] {
            url.password = env
        }
        let id = clusterNodeID ?? ClusterNodeID.random()
        guard ClusterNodeID.isValid(id) else {
            throw ValidationError("--cluster-node-id: 1 to 40 letters, digits, '-' or '_', got '\(id)'")
        }
        guard let timeout = AgentConfigLoader.parseDuration(clusterNodeTimeout), timeout >= .milliseconds(500) else {
            throw ValidationError("--cluster-node-timeout: expected a duration of at least 500ms, like 10s, got '\(clusterNodeTimeout)'")
        }
        var configuration = PostgresSignalCluster.Configuration(database: url, nodeID: id, advertisedAddress: advertise ?? listen)
        configuration.nodeTimeout = timeout
        return configuration
    }

    private func printStatus(path: String) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let status: SignalNodeStatus
        do {
            status = try await SignalStatusSocket.fetch(path: path, group: group)
        } catch {
            try? await group.shutdownGracefully()
            StandardOutput.error("icestat signal --status: \(error)")
            throw ExitCode(1)
        }
        try? await group.shutdownGracefully()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            StandardOutput.write(Array(try encoder.encode(status)) + [10])
        } else {
            StandardOutput.write(Array(status.text(nowMillis: currentTimeMillis()).utf8))
        }
    }
}
