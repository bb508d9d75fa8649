import ArgumentParser
import ICEStatusTUI
import ICEStatBench

/// `icestat`: the live dashboard of the agent's peers (`icestat status`, the default subcommand), and the
/// agent, relay and tools as subcommands. Every subcommand owns its flags: the root has none, so
/// `icestat netcheck --json` is netcheck's `--json`, not the report's.
struct ICEStat: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icestat",
        abstract: "Make and watch peer-to-peer ICE connections, live.",
        discussion: """
            With no subcommand, icestat runs `icestat status`: it attaches to a running agent's status socket \
            and shows its peers live (q quits, ? lists the keys); with --detail, --json or --yaml it prints \
            every peer once and exits (`icestat status --help` lists its flags). Start an agent on loopback \
            with `icestat demo`.
            """,
        subcommands: FrontEndCommands.all + [BenchCommands.command],
        defaultSubcommand: FrontEndCommands.status)

}

