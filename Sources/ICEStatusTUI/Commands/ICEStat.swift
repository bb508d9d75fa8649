import ArgumentParser
import Foundation
import NIOPosix
import StatusRecorder

/// `icestat`: the live dashboard of the agent's peers; `--detail` for a one-shot report.
@main
struct ICEStat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icestat",
        abstract: "Make and watch peer-to-peer ICE connections, live.",
        discussion: """
            With no subcommand, icestat attaches to a running agent's status socket and shows its peers live \
            (q quits, ? lists the keys). With --detail it prints every peer once and exits.
            Start an agent on loopback with `icestat demo`.
            """,
        subcommands: [DemoCommand.self, BenchCommand.self])

    @OptionGroup var socket: SocketOptions

    @Flag(name: [.customShort("d"), .long], help: "Print a report of every peer and exit.")
    var detail = false

    @Flag(name: .customLong("no-color"), help: "No colours (also when NO_COLOR is set).")
    var noColor = false

    func run() async throws {
        if detail {
            try await DetailCommand.run(socketPath: socket.path)
        } else {
            try await AttachCommand.run(socketPath: socket.path, color: ColorChoice.enabled(noColorFlag: noColor))
        }
    }
}

/// `--socket PATH`, shared by the commands that serve or read the status socket.
struct SocketOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Status socket path.", valueName: "path"))
    var socket: String?

    var path: String { socket ?? StatusSocketPath.defaultPath }
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
enum StandardOutput {
    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
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
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
