import ArgumentParser
import ICEEngine
import Logging
import NIOCore
import NIOPosix

/// `icestat signal --listen ADDR:PORT`: the signal relay.
struct SignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signal",
        abstract: "Run the signal relay through which agents exchange sealed offers and candidates.",
        discussion: """
            Agents register under their public key with a proof that they hold its private key. Message bodies \
            are sealed end to end between agents: this server routes them by key and cannot read or alter them. \
            A malformed or oversized frame closes that one connection; a client that stops reading is dropped.
            """)

    @Option(name: .long, help: ArgumentHelp("Address to listen on.", valueName: "addr:port"))
    var listen: String = "127.0.0.1:7600"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        guard let (host, port) = AgentConfigLoader.hostPort(listen) else {
            throw ValidationError("--listen: expected ADDR:PORT, got '\(listen)'")
        }
        FileDescriptorLimit.raise()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let server: SignalServer
        do {
            server = try await SignalServer.start(host: host, port: port, group: group)
        } catch {
            StandardOutput.error("icestat signal: cannot listen on \(listen): \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        await SignalWaiter.wait(seconds: nil)
        let c = server.counters
        StandardOutput.error("icestat signal: stopping; registered \(c.registered), delivered \(c.delivered), "
                             + "undeliverable \(c.undeliverable), rejected frames \(c.rejectedFrames), "
                             + "failed proofs \(c.failedProofs), slow clients dropped \(c.droppedSlowClients)")
        await server.stop()
        try? await group.shutdownGracefully()
    }
}
