import ArgumentParser
import Foundation
import ICEEngine
import Logging
import NIOCore
import NIOPosix
import StatusRecorder

/// `icestat up --config FILE`: the mesh agent, in the foreground.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the mesh agent: connect to the configured peers through the signal server.",
        discussion: """
            The config file is YAML; examples/agent.yaml in the repository explains every field. The agent \
            serves the status socket, so `icestat` and `icestat --detail` in another terminal show its peers. \
            SIGINT or SIGTERM stops it cleanly: peers are told, TURN allocations deleted, the socket removed. \
            SIGHUP, or a change to the file, reloads the peer list and the lazy settings without a restart; a \
            config that fails to load changes nothing and is reported in the status.
            """)

    @Option(name: .long, help: ArgumentHelp("The agent's config file.", valueName: "file"))
    var config: String

    @Option(name: .long, help: ArgumentHelp("Status socket path (default: the config's status_socket, else the per-user default).", valueName: "path"))
    var socket: String?

    @Option(name: .customLong("config-poll"), help: ArgumentHelp("How often to check the config file for changes, in seconds (0: only on SIGHUP).", valueName: "seconds"))
    var configPoll: Double = 1

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard configPoll >= 0, configPoll <= 86400 else { throw ValidationError("--config-poll must be between 0 and 86400 seconds") }
    }

    func run() async throws {
        logging.bootstrap()
        let loaded: AgentConfigLoader.Loaded
        do {
            loaded = try AgentConfigLoader.load(path: config)
        } catch {
            StandardOutput.error("icestat up: config \(config): \(error)")
            throw ExitCode(2)
        }
        for warning in loaded.warnings { StandardOutput.error("icestat up: warning: \(warning)") }
        FileDescriptorLimit.raise()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let recorder = StatusRecorder()
        let agent = MeshAgent(configuration: loaded.mesh, recorder: recorder, group: group,
                              logger: Logger(label: "icestat.up"))
        let path = socket ?? loaded.statusSocket ?? StatusSocketPath.defaultPath
        let server: StatusSocketServer
        do {
            server = try await StatusSocketServer.start(path: path, recorder: recorder, group: group, pingTarget: agent)
        } catch {
            StandardOutput.error("icestat up: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        var metricsServer: MetricsServer?
        if let listen = loaded.metricsListen {
            do {
                metricsServer = try await MetricsServer.start(host: listen.host, port: listen.port, recorder: recorder,
                                                              metrics: AgentMetrics(perPeer: loaded.metricsPerPeer), group: group)
            } catch {
                StandardOutput.error("icestat up: metrics_listen \(listen.host):\(listen.port): \(error)")
                await server.close()
                try? await group.shutdownGracefully()
                throw ExitCode(1)
            }
        }
        do {
            try await agent.start()
        } catch {
            StandardOutput.error("icestat up: \(error)")
            await agent.shutdown()
            await metricsServer?.close()
            await server.close()
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        let mesh = loaded.mesh
        StandardOutput.error("icestat up: \(mesh.name) (\(mesh.key.publicKeyBase64)), \(mesh.peers.count) peers, "
                             + "lazy \(mesh.lazy ? "on" : "off"), signal \(mesh.signalHost):\(mesh.signalPort), status socket \(server.path)"
                             + (metricsServer?.address.map { ", metrics on http://\($0.ipAddress ?? ""):\($0.port ?? 0)/metrics" } ?? ""))
        let reloader = ConfigReloader(path: config, agent: agent, loaded: loaded,
                                      pollInterval: configPoll == 0 ? nil : .milliseconds(Int(configPoll * 1000)))
        reloader.start()
        await SignalWaiter.wait(seconds: nil)
        reloader.stop()
        StandardOutput.error("icestat up: stopping")
        await agent.shutdown()
        await metricsServer?.close()
        await server.close()
        try? await group.shutdownGracefully()
        StandardOutput.error("icestat up: stopped")
    }
}

/// `--log-level` for the long-running commands; logs go to stderr.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning or error.", valueName: "level"))
    var level: String = "info"

    func bootstrap() {
        let level = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Lifts the open-file limit to its hard maximum: every lazy peer holds a UDP socket.
package enum FileDescriptorLimit {
    package static func raise() {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }
}
