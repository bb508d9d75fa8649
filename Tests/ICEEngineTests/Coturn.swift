import Foundation
@testable import ICEEngine

/// A real coturn (`turnserver`, Debian's coturn package) on 127.0.0.1 for one test, with a static user.
final class Coturn {
    static let user = "test"
    static let password = "secret"
    static let realm = "icestat.test"

    let address: TransportAddress
    private let process: Process

    init() async throws {
        guard let path = ["/usr/bin/turnserver", "/usr/sbin/turnserver"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "coturn is not installed: scripts/test.sh installs it"])
        }
        let port = Int.random(in: 20000...30000)
        address = TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(port))
        process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["-n", "--listening-ip", "127.0.0.1", "--listening-port", "\(port)", "--relay-ip", "127.0.0.1",
                             "--min-port", "\(port + 1)", "--max-port", "\(port + 200)",
                             "--no-tls", "--no-dtls", "--no-cli", "--no-stdout-log", "--log-file", "/dev/null",
                             "--lt-cred-mech", "--user", "\(Self.user):\(Self.password)", "--realm", Self.realm,
                             "--fingerprint", "--allow-loopback-peers", "--no-multicast-peers"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        // Ready when it answers a Binding request (it takes a moment to start, longer on a busy machine).
        let probe = try UDPProbe()
        for _ in 0..<50 {
            let request = STUNMessageBuilder(type: .bindingRequest)
            probe.send(request.encoded, to: address)
            if let (bytes, _) = probe.receiveOne(timeout: 0.2), (try? STUNMessage(decoding: bytes))?.transactionID == request.transactionID {
                return
            }
        }
        stop()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "coturn did not start on \(address)"])
    }

    /// A TURN client of this server, with its user, on the tests' event loops.
    func client(onData: @escaping @Sendable (TransportAddress, [UInt8]) -> Void) -> TURNClient {
        TURNClient(server: address, username: Self.user, password: Self.password, eventLoop: AgentFactory.group.next(),
                   onData: onData)
    }

    /// SIGKILL: the child may have inherited a mask that blocks SIGTERM from a dispatch thread.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
