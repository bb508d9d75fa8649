import ArgumentParser
import Dispatch
import Foundation
import NIOPosix
import StatusRecorder

/// `icestat demo`: a whole mesh on loopback, shown on the dashboard and served on the status socket.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a mesh of ICE agents on loopback and watch it live.",
        discussion: """
            A signal server, a local agent and N remote agents, each a real agent with its own key, connect over \
            real UDP sockets on 127.0.0.1 with real STUN connectivity checks, and traffic crosses every \
            connection. The local agent has lazy connections: most peers are kept busy, some wake on a burst \
            of traffic and go Idle again, one remote leaves and comes back, and where coturn is installed two \
            peers connect through a coturn the demo starts on loopback. The status socket is served too, so \
            `icestat --detail`, `icestat events` and `icestat ping` in another terminal read it.
            """)

    @Option(name: .long, help: "Number of remote peers (1-1000).")
    var peers = 8

    @OptionGroup var socket: SocketOptions

    @Flag(name: .long, help: "No dashboard: serve the status socket until SIGINT/SIGTERM (or --duration).")
    var headless = false

    @Flag(name: .long, help: "Every peer busy and direct: no lazy wake-ups, departures or relays.")
    var plain = false

    @Option(name: .long, help: ArgumentHelp("Stop after this many seconds.", valueName: "seconds"))
    var duration: Double?

    @OptionGroup var display: DisplayOptions

    func validate() throws {
        guard (1...1000).contains(peers) else { throw ValidationError("--peers must be between 1 and 1000") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
    }

    func run() async throws {
        if !headless, isatty(0) != 1 || isatty(1) != 1 {
            StandardOutput.error("""
                icestat demo: the dashboard needs a terminal (stdin and stdout must be a tty).
                Run `icestat demo --headless` to serve the mesh without a dashboard, and read it with `icestat --detail`.
                """)
            throw ExitCode(1)
        }
        FileDescriptorLimit.raise()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        // The relayed peers need a TURN server: a coturn on loopback, if this machine has one.
        var coturn: LoopbackCoturn?
        var relayNote = ""
        if !plain {
            do { coturn = try LoopbackCoturn(tls: false) } catch { relayNote = "; no relayed peers: \(error)" }
        }
        let mesh = DemoMesh(peerCount: peers, relay: coturn?.server(.udp), plain: plain, group: group)
        let server: StatusSocketServer
        do {
            server = try await StatusSocketServer.start(path: socket.path, recorder: mesh.recorder, group: group, pingTarget: mesh)
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat demo: \(error)")
            coturn?.stop()
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        do {
            try await mesh.start()
        } catch {
            StandardOutput.error("icestat demo: \(error)")
            await mesh.stop()
            await server.close()
            coturn?.stop()
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        var failure: Error?
        if headless {
            StandardOutput.error("icestat demo: \(peers) peers on loopback; status socket \(server.path)\(relayNote); Ctrl-C stops")
            await SignalWaiter.wait(seconds: duration)
        } else {
            let stopper = duration.map { seconds in
                Task {
                    try await Task.sleep(for: .seconds(seconds))
                    kill(getpid(), SIGTERM)
                }
            }
            do { try await DashboardRunner.run(recorder: mesh.recorder, display: display) }
            catch { failure = error }
            stopper?.cancel()
        }
        await mesh.stop()
        await server.close()
        coturn?.stop()
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }
}
