import ArgumentParser
import Foundation
import ICEEngine
import NIOCore
import NIOPosix
import Yams

/// `icestat netcheck`: how this host's NAT behaves, and which STUN and TURN servers answer. No agent needed.
struct NetcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "netcheck",
        abstract: "Test UDP reachability, the NAT's mapping and filtering (RFC 5780) and the STUN/TURN servers.",
        discussion: """
            Mapping and filtering are tested with a STUN server that supports RFC 5780 (icestat stun \
            --alternate is one); with plain servers only whether the mapping varies by destination is, and the \
            rest is reported as not tested. TURN servers are checked by making an allocation and releasing it. \
            Exit 0 when something answered, 1 when nothing did.
            """)

    @Option(name: .long, help: ArgumentHelp("A STUN server (repeatable).", valueName: "stun:HOST:PORT"))
    var stun: [String] = []

    @Option(name: .long, help: ArgumentHelp("A TURN server (repeatable): turn:HOST:PORT[?transport=udp|tcp] or turns:HOST:PORT.", valueName: "url"))
    var turn: [String] = []

    @Option(name: .customLong("turn-user"), help: "TURN user name (one for all, or one per --turn).")
    var turnUser: [String] = []

    @Option(name: .customLong("turn-pass"), help: "TURN password (one for all, or one per --turn).")
    var turnPass: [String] = []

    @Option(name: .customLong("turn-ca"), help: ArgumentHelp("PEM file of the CAs a turns: server's certificate must chain to.", valueName: "file"))
    var turnCA: String?

    @Option(name: .long, help: ArgumentHelp("Take the STUN and TURN servers from this agent config too.", valueName: "file"))
    var config: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds each test waits for its answer.", valueName: "seconds"))
    var timeout: Double = 2

    @Flag(name: .long, help: "Also estimate the mapping's lifetime (idles of 15 s to 4 min: up to 8 minutes in all).")
    var lifetime = false

    @Option(name: .customLong("lifetime-waits"), help: .hidden)
    var lifetimeWaits: String?

    func validate() throws {
        guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be between 0 and 60 seconds") }
        for list in [turnUser, turnPass] where list.count > 1 && list.count != turn.count {
            throw ValidationError("give --turn-user and --turn-pass once for all TURN servers, or once per --turn")
        }
        if !turn.isEmpty, turnUser.isEmpty || turnPass.isEmpty { throw ValidationError("--turn needs --turn-user and --turn-pass") }
    }

    func run() async throws {
        var stunURLs = stun
        var turns: [(url: String, user: String, pass: String, ca: String?)] = turn.enumerated().map { i, url in
            (url, turnUser.count > 1 ? turnUser[i] : turnUser[0], turnPass.count > 1 ? turnPass[i] : turnPass[0], nil)
        }
        if let config {
            do {
                let text = try String(contentsOfFile: config, encoding: .utf8)
                let file = try YAMLDecoder().decode(AgentConfigFile.self, from: text)
                stunURLs += file.stun ?? []
                let base = (config as NSString).deletingLastPathComponent
                turns += (file.turn ?? []).map { t in
                    (t.url, t.username, t.password, t.ca_file.map { $0.hasPrefix("/") ? $0 : (base as NSString).appendingPathComponent($0) })
                }
            } catch {
                StandardOutput.error("icestat netcheck: config \(config): \(error)")
                throw ExitCode(2)
            }
        }
        guard !stunURLs.isEmpty || !turns.isEmpty else {
            throw ValidationError("name at least one server: --stun stun:HOST:PORT, --turn turn:HOST:PORT, or --config FILE")
        }
        var stunServers: [NATCheck.STUN] = []
        for url in stunURLs {
            do { stunServers.append(NATCheck.STUN(url: url, address: try STUNServerURL.resolve(url))) }
            catch { throw ValidationError("--stun \(url): \(error)") }
        }
        var turnServers: [(url: String, server: TURNServer)] = []
        for t in turns {
            do {
                let parsed = try TURNServerURL.parse(t.url)
                turnServers.append((t.url, TURNServer(address: parsed.address, username: t.user, password: t.pass,
                                                      transport: parsed.transport, host: parsed.host, caFile: t.ca ?? turnCA)))
            } catch {
                throw ValidationError("--turn \(t.url): \(error)")
            }
        }
        var check = NATCheck(stunServers: stunServers, turnServers: turnServers)
        check.timeout = .milliseconds(Int64(timeout * 1000))
        check.localAddresses = Set(((try? HostAddressGatherer.addresses(filter: HostCandidateFilter(excludedInterfacePrefixes: [], includeLoopback: true))) ?? []).map(\.address))
        if lifetime {
            let waits = lifetimeWaits.map { $0.split(separator: ",").compactMap { Double($0) } } ?? [15, 30, 60, 120, 240]
            check.lifetimeWaits = waits.map { .milliseconds(Int64($0 * 1000)) }
        }
        let report = await check.run(group: MultiThreadedEventLoopGroup.singleton)
        StandardOutput.write(json ? NetcheckReport.json(report) : Array(NetcheckReport.text(report).utf8))
        guard report.anyAnswer else {
            let why = report.servers.map { "\($0.url): \($0.error ?? "no answer")" }
                + report.turnServers.map { "\($0.url): \($0.error ?? "no answer")" }
            StandardOutput.error("icestat netcheck: nothing answered (\(why.joined(separator: "; ")))")
            throw ExitCode(1)
        }
    }
}
