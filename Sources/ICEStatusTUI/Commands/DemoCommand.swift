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
            A local agent and N remote agents connect over real UDP sockets on 127.0.0.1 with real STUN \
            connectivity checks. The status socket is served too, so `icestat --detail` in another terminal reads it.
            """)

    @Option(name: .long, help: "Number of remote peers (1-1000).")
    var peers = 8

    @OptionGroup var socket: SocketOptions

    @Flag(name: .long, help: "No dashboard: serve the status socket until SIGINT/SIGTERM (or --duration).")
    var headless = false

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
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let mesh = DemoMesh(peerCount: peers, group: group)
        let server: StatusSocketServer
        do {
            server = try await StatusSocketServer.start(path: socket.path, recorder: mesh.recorder, group: group, pingTarget: mesh)
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat demo: \(error)")
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        mesh.start()
        var failure: Error?
        if headless {
            StandardOutput.error("icestat demo: \(peers) peers on loopback; status socket \(server.path); Ctrl-C stops")
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
        try? await group.shutdownGracefully()
        if let failure { throw failure }
    }
}
