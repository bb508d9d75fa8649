import Foundation
import ProcessSpawning

/// A baseline binary of `icestat bench startup`, built by the bench with the same toolchain and linking as this
/// binary: the Swift runtime static when this one's is, and the release link flags when it has them.
struct StartupBaseline {
    let label: String
    let argv: [String]

    /// `print("hi")`: the least a Swift process costs.
    static func hello(in dir: String, linking: [String]) throws -> StartupBaseline {
        try build(name: "hi", source: "print(\"hi\")\n", in: dir, arguments: linking)
        return StartupBaseline(label: "print(\"hi\")", argv: ["\(dir)/hi"])
    }

    /// A root command and a default subcommand with the same options as `icestat status`, parsed by the
    /// ArgumentParser this binary was built with, that prints "hi" for `--detail`: what parsing alone costs,
    /// without this binary's size. Nil when the build's ArgumentParser module and objects are not beside this
    /// binary (an installed copy of icestat).
    static func parserOnly(in dir: String, linking: [String]) throws -> StartupBaseline? {
        let buildDir = (ProcessTimer.selfPath as NSString).deletingLastPathComponent
        let modules = "\(buildDir)/Modules"
        guard FileManager.default.fileExists(atPath: "\(modules)/ArgumentParser.swiftmodule") else { return nil }
        let objects = try ["ArgumentParser", "ArgumentParserToolInfo"].flatMap { target -> [String] in
            let objectDir = "\(buildDir)/\(target).build"
            return try FileManager.default.contentsOfDirectory(atPath: objectDir).filter { $0.hasSuffix(".o") }.sorted().map { "\(objectDir)/\($0)" }
        }
        guard !objects.isEmpty else { return nil }
        try build(name: "parser", source: parserSource, in: dir, arguments: ["-I", modules] + objects + linking)
        return StartupBaseline(label: "ArgumentParser alone, status's options, --detail", argv: ["\(dir)/parser", "--detail"])
    }

    private static func build(name: String, source: String, in dir: String, arguments: [String]) throws {
        try source.write(toFile: "\(dir)/\(name).swift", atomically: true, encoding: .utf8)
        let swiftc = ProcessInfo.processInfo.environment["SWIFTC"] ?? "swiftc"
        var child = try ChildProcess([swiftc, "-O", "\(dir)/\(name).swift", "-o", "\(dir)/\(name)"] + arguments, stderr: "\(dir)/\(name).log")
        guard child.wait() == 0 else {
            throw BenchError.missing("swiftc to build the \(name) baseline (set SWIFTC): \((try? String(contentsOfFile: "\(dir)/\(name).log", encoding: .utf8)) ?? "")")
        }
    }

    /// `icestat status`'s options (Commands/StatusCommand.swift), with another subcommand beside it.
    private static let parserSource = """
        import ArgumentParser
        enum StatusArgument: String, ExpressibleByArgument, CaseIterable { case idle, connecting, connected }
        enum ConnectionTypeArgument: String, ExpressibleByArgument, CaseIterable { case p2p, relayed }
        enum CheckArgument: String, ExpressibleByArgument, CaseIterable { case live, ready }
        struct SocketOptions: ParsableArguments { @Option(name: .long) var socket: String? }
        struct DisplayOptions: ParsableArguments {
            @Flag(name: .customLong("no-color")) var noColor = false
            @Option(name: .long) var interval = 250
        }
        struct Status: ParsableCommand {
            @OptionGroup var socket: SocketOptions
            @Flag(name: [.customShort("d"), .long]) var detail = false
            @Flag(name: .long) var json = false
            @Flag(name: .long) var yaml = false
            @Option(name: .customLong("filter-by-status"), parsing: .singleValue) var statuses: [StatusArgument] = []
            @Option(name: .customLong("filter-by-connection-type"), parsing: .singleValue) var types: [ConnectionTypeArgument] = []
            @Option(name: .customLong("filter-by-names")) var names: String?
            @Option(name: .long) var events = 5
            @Option(name: .long) var check: CheckArgument?
            @OptionGroup var display: DisplayOptions
            func run() { print("hi") }
        }
        struct Other: ParsableCommand { @Option(name: .long) var config: String? }
        struct Root: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "parser", subcommands: [Status.self, Other.self],
                                                            defaultSubcommand: Status.self)
        }
        Root.main()

        """
}
