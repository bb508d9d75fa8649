import Foundation

/// A certificate authority and a server certificate that a test makes with openssl (Debian's), for TLS servers
/// that the tests start (coturn's TURN over TLS). Files live in a private directory, removed with the value.
public final class TestCertificates: @unchecked Sendable {
    public let directory: String
    /// The CA that signed `certificate`.
    public let caFile: String
    /// The server certificate (PEM) and its key.
    public let certificate: String
    public let key: String
    /// A CA that signed nothing here: a client that trusts only it must refuse the server.
    public let otherCAFile: String

    /// `names` go into the certificate's subjectAltName: IP addresses as IP:, anything else as DNS:.
    public init(names: [String]) throws {
        directory = NSTemporaryDirectory() + "icestat-certs-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        caFile = directory + "/ca.pem"
        certificate = directory + "/server.pem"
        key = directory + "/server.key"
        otherCAFile = directory + "/other-ca.pem"
        let san = names.map { $0.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\($0)" : "DNS:\($0)" }.joined(separator: ",")
        try "subjectAltName=\(san)\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", caFile, "-days", "2",
                          "-subj", "/CN=icestat test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", directory + "/other-ca.key", "-out", otherCAFile, "-days", "2",
                          "-subj", "/CN=icestat other CA"])
        try Self.openssl(["req"] + ec + ["-keyout", key, "-out", directory + "/server.csr", "-subj", "/CN=\(names.first ?? "server")"])
        try Self.openssl(["x509", "-req", "-in", directory + "/server.csr", "-CA", caFile, "-CAkey", directory + "/ca.key",
                          "-CAcreateserial", "-out", certificate, "-days", "2", "-extfile", directory + "/server.ext"])
        // coturn may drop privileges; the files must stay readable to it.
        for file in [caFile, certificate, key] { chmod(file, 0o644) }
    }

    private static func openssl(_ arguments: [String]) throws {
        let r = try TestProcess.run("openssl", arguments, timeout: 30)
        guard r.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl \(arguments.first ?? ""): \(r.stderr)"])
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}
