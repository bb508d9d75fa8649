import ArgumentParser
import ICEEngine
import NIOCore
import NIOPosix

/// `icestat stun --listen ADDR:PORT [--alternate ADDR:PORT]`: a STUN server for NAT behaviour discovery.
struct STUNCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stun",
        abstract: "Run a STUN server that supports RFC 5780 NAT behaviour discovery (for icestat netcheck).",
        discussion: """
            It answers Binding requests only, with XOR-MAPPED-ADDRESS and RESPONSE-ORIGIN. With --alternate (a \
            second IP address of this host and another port) it listens on all four address and port \
            combinations, gives OTHER-ADDRESS and honours CHANGE-REQUEST, which is what the mapping and \
            filtering tests need. Without it, CHANGE-REQUEST is answered with 420, as a plain server does.
            """)

    @Option(name: .long, help: ArgumentHelp("Primary address and port.", valueName: "addr:port"))
    var listen: String = "127.0.0.1:3478"

    @Option(name: .long, help: ArgumentHelp("Alternate address and port (another IP and another port).", valueName: "addr:port"))
    var alternate: String?

    func run() async throws {
        func parse(_ text: String, _ flag: String) throws -> TransportAddress {
            guard let (host, port) = AgentConfigLoader.hostPort(text), let ip = IPAddress(host) else {
                throw ValidationError("\(flag): expected IP:PORT, got '\(text)'")
            }
            return TransportAddress(ip: ip, port: UInt16(port))
        }
        let primary = try parse(listen, "--listen")
        let other = try alternate.map { try parse($0, "--alternate") }
        let responder: STUNResponder
        do {
            responder = try await STUNResponder.start(primary: primary, alternate: other, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            StandardOutput.error("icestat stun: \(error)")
            throw ExitCode(1)
        }
        StandardOutput.error("icestat stun: listening on \(primary)" + (other.map { ", alternate \($0) (RFC 5780)" } ?? " (no alternate: CHANGE-REQUEST refused)"))
        await SignalWaiter.wait(seconds: nil)
        let c = responder.counters
        StandardOutput.error("icestat stun: stopping; answered \(c.answered) (\(c.changed) from another address), refused \(c.refused), dropped \(c.dropped)")
        await responder.stop()
    }
}
