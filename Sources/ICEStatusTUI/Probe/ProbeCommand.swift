import ArgumentParser
import Foundation
import ICEEngine
import NIOPosix

/// `icestat probe`: one ICE session against one remote over manual signalling, as JSON lines on
/// stdin/stdout (the protocol in README "icestat probe"). Logs go to stderr.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Run one ICE session with one remote over manual signalling (JSON lines on stdin/stdout).",
        discussion: """
            Prints credentials, candidates, end-of-candidates, then `connected` with the selected pair and its RTT, \
            then `done` after an echo of 5 datagrams. Reads the same kinds of lines from the remote on stdin.
            """)

    @Flag(exclusivity: .exclusive, help: "The ICE role.")
    var role: ProbeRole?

    @Option(name: .long, help: ArgumentHelp("Address family: udp4 or udp6 (default: both).", valueName: "udp4|udp6"))
    var network: ProbeNetwork?

    @Option(name: .long, help: ArgumentHelp("Gather host candidates only on this interface (repeatable).", valueName: "name"))
    var interface: [String] = []

    @Option(name: .long, help: ArgumentHelp("Gather a server-reflexive candidate through this STUN server (repeatable).", valueName: "stun:HOST:PORT"))
    var stun: [String] = []

    @Option(name: .long, help: ArgumentHelp("Gather a relayed candidate through this TURN server: turn:HOST:PORT[?transport=udp|tcp] or turns:HOST:PORT (TLS).", valueName: "url"))
    var turn: String?

    @Option(name: .customLong("turn-user"), help: "TURN user name.")
    var turnUser: String?

    @Option(name: .customLong("turn-pass"), help: "TURN password.")
    var turnPass: String?

    @Option(name: .customLong("turn-ca"), help: ArgumentHelp("PEM file of the CAs a turns: server's certificate must chain to (default: the system's).", valueName: "file"))
    var turnCA: String?

    @Flag(name: .customLong("relay-only"), help: "Offer and use only relayed candidates.")
    var relayOnly = false

    @Option(name: .long, help: ArgumentHelp("Bind the host candidates to this UDP port instead of an ephemeral one (for a router's port forward).", valueName: "port"))
    var port: Int?

    @Option(name: .long, help: ArgumentHelp("Give up after this many seconds.", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        guard role != nil else { throw ValidationError("choose --controlling or --controlled") }
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
        if turn != nil, turnUser == nil || turnPass == nil { throw ValidationError("--turn needs --turn-user and --turn-pass") }
        if relayOnly, turn == nil { throw ValidationError("--relay-only needs --turn") }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1-65535") }
    }

    func run() async throws {
        var config = ICEAgentConfiguration()
        config.consentInterval = .seconds(1)
        config.checkingTimeout = .seconds(Int64(timeout))
        var filter = HostCandidateFilter.default
        if !interface.isEmpty {
            filter.interfaces = Set(interface)
            filter.excludedInterfacePrefixes = []
            filter.includeLoopback = true // naming an interface, loopback included, is an explicit choice
        }
        if network == .udp4 { filter.includeIPv6 = false }
        if network == .udp6 { filter.includeIPv4 = false }
        config.hostFilter = filter
        do {
            config.stunServers = try stun.map { try STUNServerURL.resolve($0) }
        } catch {
            throw ValidationError("--stun: \(error)")
        }
        if let turn {
            let parsed: (address: TransportAddress, host: String, transport: TURNTransport)
            do { parsed = try TURNServerURL.parse(turn) } catch { throw ValidationError("--turn: \(error)") }
            if turnCA != nil, parsed.transport != .tls { throw ValidationError("--turn-ca needs a turns: server") }
            config.turnServers = [TURNServer(address: parsed.address, username: turnUser ?? "", password: turnPass ?? "",
                                             transport: parsed.transport, host: parsed.host, caFile: turnCA)]
            config.relayOnly = relayOnly
        }
        let group = MultiThreadedEventLoopGroup.singleton
        var mux: UDPPortMux?
        if let port, !config.relayOnly {
            let shared = UDPPortMux(port: port, group: group)
            let addresses = ((try? HostAddressGatherer.addresses(filter: filter)) ?? []).map(\.address)
            do {
                try await shared.bind(addresses).get()
            } catch {
                StandardOutput.error("icestat probe: --port \(port): \(error)")
                throw ExitCode(1)
            }
            config.hostPort = port
            config.portMux = shared
            mux = shared
        }
        let session = ProbeSession(role: role == .controlling ? .controlling : .controlled, configuration: config,
                                   group: group)
        let code = await session.run(timeout: timeout)
        try? await mux?.close().get()
        if code != 0 { throw ExitCode(code) }
    }
}

enum ProbeRole: String, EnumerableFlag {
    case controlling, controlled
}

enum ProbeNetwork: String, ExpressibleByArgument {
    case udp4, udp6
}
