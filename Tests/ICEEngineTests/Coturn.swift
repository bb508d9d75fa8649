import Foundation
import ICETestSupport
@testable import STUN
@testable import ICE
@testable import Signal
@testable import Mesh

/// A real coturn (`turnserver`, Debian's coturn package) on 127.0.0.1 for one test, with a static user.
final class Coturn {
    static let user = "test"
    static let password = "secret"
    static let realm = "icestat.test"

    let address: TransportAddress
    /// Where TLS is served, when certificates were given (TCP is served on `address`'s port as UDP is).
    let tlsAddress: TransportAddress?
    private let process: TestProcess
    private let log = NSTemporaryDirectory() + "icestat-coturn-\(UUID().uuidString.prefix(8)).log"

    /// With `certificates`, coturn also serves TURN over TLS (and TCP, always) with that certificate.
    init(certificates: TestCertificates? = nil) async throws {
        guard let path = ["/usr/bin/turnserver", "/usr/sbin/turnserver"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "coturn is not installed: scripts/test.sh installs it"])
        }
        // A listening port and relay range that nothing holds now: coturn answers 508 when the port it picks for
        // a relay is taken.
        let port = try Self.freeBlock(count: 201)
        address = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port))
        tlsAddress = certificates.map { _ in TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port + 201)) }
        let tls = certificates.map { ["--tls-listening-port", "\(port + 201)", "--cert", $0.certificate, "--pkey", $0.key] } ?? ["--no-tls"]
        process = try TestProcess([path, "-n", "--listening-ip", "127.0.0.1", "--listening-port", "\(port)", "--relay-ip", "127.0.0.1",
                                   "--min-port", "\(port + 1)", "--max-port", "\(port + 200)"] + tls + [
                                   "--no-dtls", "--no-cli", "--log-file", "stdout", "--verbose",
                                   "--lt-cred-mech", "--user", "\(Self.user):\(Self.password)", "--realm", Self.realm,
                                   "--fingerprint", "--allow-loopback-peers", "--no-multicast-peers"], stdout: log)
        // Ready when all its relay threads are up (it logs the count) and it answers a Binding request: the
        // listener can answer before the thread that will serve an Allocate exists.
        let probe = try UDPProbe()
        for _ in 0..<50 {
            guard ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Total General servers") else {
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            let request = STUNMessageBuilder(type: .bindingRequest)
            probe.send(request.encoded, to: address)
            if let (bytes, _) = probe.receiveOne(timeout: 0.2), (try? STUNMessage(decoding: bytes))?.transactionID == request.transactionID {
                return
            }
        }
        stop()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "coturn did not start on \(address)"])
    }

    /// This server over `transport`, with its user (TLS: trusting `caFile`, checking `host`).
    func server(_ transport: TURNTransport, caFile: String? = nil, host: String? = nil) -> TURNServer {
        TURNServer(address: transport == .tls ? tlsAddress! : address, username: Self.user, password: Self.password,
                   transport: transport, host: host, caFile: caFile)
    }

    /// What coturn logged so far.
    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// A TURN client of this server, with its user, on the tests' event loops.
    func client(onData: @escaping @Sendable (TransportAddress, [UInt8]) -> Void) -> TURNClient {
        TURNClient(server: address, username: Self.user, password: Self.password, eventLoop: AgentFactory.group.next(),
                   onData: onData)
    }

    /// The first port of `count` consecutive UDP ports on 127.0.0.1 that can all be bound now.
    private static func freeBlock(count: Int) throws -> Int {
        for _ in 0..<20 {
            let base = Int.random(in: 20000...(32000 - count))
            let probes = (base..<base + count).map { port in (try? UDPProbe(port: UInt16(port))) }
            if probes.allSatisfy({ $0 != nil }) { return base }
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no free block of \(count) UDP ports"])
    }

    func stop() {
        process.kill()
        unlink(log)
    }
}
