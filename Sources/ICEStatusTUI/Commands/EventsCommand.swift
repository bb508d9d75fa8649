import ArgumentParser
import NIOCore
import NIOPosix
import StatusRecorder

/// `icestat events`: the agent's event log, and with `--follow` every new event as it happens.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print what happened to the peers and the agent: state and path changes, restarts, servers, network.",
        discussion: """
            One line per event, oldest first: time (UTC), the peer's name (or `agent`), what happened. With \
            --follow, new events are printed as they happen until interrupted. With --json, one JSON object per \
            line (keys in the README).
            """)

    @OptionGroup var socket: SocketOptions

    @Flag(name: [.customShort("f"), .long], help: "Keep printing new events as they happen.")
    var follow = false

    @Option(name: .long, help: ArgumentHelp("Only this peer's events (its name or public key).", valueName: "name"))
    var peer: String?

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("How many past events to print first.", valueName: "N"))
    var count = 100

    @Flag(name: .long, help: "One JSON object per event and line.")
    var json = false

    func validate() throws {
        guard (0...StatusRequest.eventLimit).contains(count) else {
            throw ValidationError("--count must be between 0 and \(StatusRequest.eventLimit)")
        }
        if let peer, peer.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--peer needs a name") }
    }

    func run() async throws {
        let json = self.json
        let request = StatusRequest.events(limit: count, follow: follow, peer: peer?.trimmingCharacters(in: .whitespaces))
        let channel: Channel
        do {
            channel = try await StatusSocketClient.events(path: socket.path, group: MultiThreadedEventLoopGroup.singleton,
                                                          request: request) { events in
                StandardOutput.write(Self.lines(events, json: json))
            }
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat: \(error)")
            throw ExitCode(2)
        }
        try? await channel.closeFuture.get()
        if follow {
            StandardOutput.error("icestat: the agent closed the connection")
            throw ExitCode(1)
        }
    }

    static func lines(_ events: [StatusEvent], json: Bool) -> [UInt8] {
        var out: [UInt8] = []
        for e in events {
            if json {
                out += StructuredReport.compactJSON(e)
            } else {
                out += Array(e.line.utf8)
                out.append(10)
            }
        }
        return out
    }
}
