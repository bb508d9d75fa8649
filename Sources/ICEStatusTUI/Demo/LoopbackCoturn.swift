import Foundation
import ICEEngine
import ProcessSpawning

/// A coturn (`turnserver`) on 127.0.0.1 for the demo and the benchmarks, serving UDP and TCP, and TLS with a
/// certificate made with openssl when asked. Its files live in a private directory, removed on `stop`.
package final class LoopbackCoturn {
    /// Why no coturn could be started.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    private var process: ChildProcess
    private let directory: String
    package let port: Int
    private let caFile: String?
    private let log: String

    package init(tls: Bool) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/turnserver") else {
            throw Unavailable(description: "turnserver is not installed (Debian's coturn package; scripts/demo.sh and scripts/test.sh install it)")
        }
        directory = NSTemporaryDirectory() + "icestat-coturn-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The listening ports (UDP and TCP, TLS one above) and the relay ports, free now and out of the ephemeral range.
        port = try LoopbackPorts.block(count: 401, tcp: true)
        var tlsArguments = ["--no-tls"]
        if tls {
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
            try Self.run(["/usr/bin/openssl", "req", "-x509"] + ec + ["-keyout", "\(directory)/ca.key", "-out", "\(directory)/ca.pem",
                                                                      "-subj", "/CN=icestat loopback CA"])
            try Self.run(["/usr/bin/openssl", "req", "-x509"] + ec + ["-keyout", "\(directory)/server.key", "-out", "\(directory)/server.pem",
                                                                      "-subj", "/CN=127.0.0.1", "-CA", "\(directory)/ca.pem",
                                                                      "-CAkey", "\(directory)/ca.key", "-addext", "subjectAltName=IP:127.0.0.1"])
            tlsArguments = ["--tls-listening-port", "\(port + 1)", "--cert", "\(directory)/server.pem", "--pkey", "\(directory)/server.key"]
            caFile = "\(directory)/ca.pem"
        } else {
            caFile = nil
        }
        log = "\(directory)/coturn.log"
        process = try ChildProcess(["/usr/bin/turnserver", "-n", "--listening-ip", "127.0.0.1", "--listening-port", "\(port)",
                                    "--relay-ip", "127.0.0.1", "--min-port", "\(port + 2)", "--max-port", "\(port + 400)"]
                                   + tlsArguments + ["--no-dtls", "--no-cli", "--log-file", "stdout", "--lt-cred-mech",
                                                     "--user", "icestat:icestat", "--realm", "icestat.loopback", "--fingerprint",
                                                     "--allow-loopback-peers", "--no-multicast-peers"], stdout: log)
        for _ in 0..<100 {
            if ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Total General servers") { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw Unavailable(description: "coturn did not start (see \(log))")
    }

    /// The ports coturn relays from.
    package var relayPorts: ClosedRange<Int> { (port + 2)...(port + 400) }

    package func server(_ transport: TURNTransport) -> TURNServer {
        TURNServer(address: TransportAddress(ip: IPAddress("127.0.0.1")!, port: UInt16(transport == .tls ? port + 1 : port)),
                   username: "icestat", password: "icestat", transport: transport, caFile: caFile)
    }

    /// The last `lines` lines coturn logged, for a report of a run that went wrong.
    package func logTail(lines: Int = 30) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    package func stop() {
        process.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func run(_ argv: [String]) throws {
        var child = try ChildProcess(argv)
        guard child.wait() == 0 else { throw Unavailable(description: "openssl could not make the TLS certificate") }
    }
}
