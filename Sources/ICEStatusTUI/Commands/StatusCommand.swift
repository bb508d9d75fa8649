import ArgumentParser
import Foundation
import NIOPosix
import StatusRecorder

/// The front ends' subcommands, for the root command (in the executable, beside the benches).
package enum FrontEndCommands {
    /// `icestat status`: the default subcommand.
    package static let status: any ParsableCommand.Type = StatusCommand.self
    /// Every front-end subcommand, in the order `icestat --help` lists them.
    package static let all: [any ParsableCommand.Type] = [
        StatusCommand.self, DemoCommand.self, UpCommand.self, SignalCommand.self, KeygenCommand.self,
        EventsCommand.self, PingCommand.self, ProbeCommand.self, NetcheckCommand.self, STUNCommand.self,
    ]
}

/// `icestat status` (and `icestat` alone): the live dashboard, or with `--detail` a one-shot report.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the agent's peers: live, or once with --detail, --json or --yaml (the default subcommand).",
        discussion: """
            Attaches to a running agent's status socket and shows its peers live (q quits, ? lists the keys). \
            With --detail it prints every peer once and exits. Start an agent on loopback with `icestat demo`.
            """)

    @OptionGroup var socket: SocketOptions

    @Flag(name: [.customShort("d"), .long], help: "Print a report of every peer and exit.")
    var detail = false

    @Flag(name: .long, help: "Print the report as JSON (keys in the README) and exit.")
    var json = false

    @Flag(name: .long, help: "Print the report as YAML (same keys as --json) and exit.")
    var yaml = false

    @Option(name: .customLong("filter-by-status"), parsing: .singleValue,
            help: ArgumentHelp("Only peers in this state (repeatable): idle, connecting or connected.", valueName: "status"))
    var statuses: [StatusArgument] = []

    @Option(name: .customLong("filter-by-connection-type"), parsing: .singleValue,
            help: ArgumentHelp("Only connected peers of this type (repeatable): p2p or relayed.", valueName: "type"))
    var connectionTypes: [ConnectionTypeArgument] = []

    @Option(name: .customLong("filter-by-names"),
            help: ArgumentHelp("Only peers whose name starts with one of these (comma-separated).", valueName: "prefixes"))
    var names: String?

    @Option(name: .long, help: ArgumentHelp("With --detail, --json or --yaml: the last N events of each peer and of the agent (0: none).", valueName: "N"))
    var events = 5

    @Option(name: .long, help: ArgumentHelp("Print nothing; exit 0 if the agent is live (answers), or ready (live, signal up, no peer still connecting), else 1.", valueName: "live|ready"))
    var check: CheckArgument?

    @OptionGroup var display: DisplayOptions

    var filter: PeerFilter {
        PeerFilter(statuses: Set(statuses.map(\.state)), connectionTypes: Set(connectionTypes.map(\.type)),
                   namePrefixes: (names ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func validate() throws {
        if json && yaml { throw ValidationError("choose one of --json and --yaml") }
        guard (0...StatusRequest.eventLimit).contains(events) else {
            throw ValidationError("--events must be between 0 and \(StatusRequest.eventLimit)")
        }
        if let names, names.split(separator: ",").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
            throw ValidationError("--filter-by-names needs at least one name prefix")
        }
    }

    func run() async throws {
        if try !runSynchronously() {
            try await AttachCommand.run(socketPath: socket.path, display: display)
        }
    }
}

extension StatusCommand: SynchronousRun {
    /// The reports and `--check`, which need no event loop; the dashboard needs the async path.
    package func runSynchronously() throws -> Bool {
        if let check {
            try ReportCommand.check(check, socketPath: socket.path, filter: filter)
        } else if detail || json || yaml {
            try ReportCommand.run(socketPath: socket.path, format: json ? .json : yaml ? .yaml : .text, filter: filter,
                                  events: events)
        } else {
            return false
        }
        return true
    }
}

/// `--no-color` and `--interval`, for the commands that open the dashboard.
struct DisplayOptions: ParsableArguments {
    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    @Option(name: .long, help: ArgumentHelp("Least time between two redraws for changes, in ms (50-5000; keys + and -).", valueName: "ms"))
    var interval = 250

    func validate() throws {
        guard (50...5000).contains(interval) else { throw ValidationError("--interval must be between 50 and 5000 ms") }
    }

    var color: Bool { ColorChoice.enabled(noColorFlag: noColor) }
}

/// `--socket PATH`, shared by the commands that serve or read the status socket.
package struct SocketOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Status socket path.", valueName: "path"))
    var socket: String?

    package init() {}

    package var path: String { socket ?? StatusSocketPath.defaultPath }
}

enum ColorChoice {
    /// Colour unless `--no-color` or a non-empty `NO_COLOR` (no-color.org).
    static func enabled(noColorFlag: Bool) -> Bool {
        if noColorFlag { return false }
        if let v = ProcessInfo.processInfo.environment["NO_COLOR"], !v.isEmpty { return false }
        return true
    }
}

/// Writes bytes to standard output in full.
package enum StandardOutput {
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    static func write(_ report: ReportBytes) {
        report.withUnsafeBytes { write(UnsafeRawBufferPointer($0)) }
    }

    private static func write(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < raw.count {
            let n = Foundation.write(1, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            offset += n
        }
    }

    package static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
