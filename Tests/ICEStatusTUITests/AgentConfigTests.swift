import Foundation
import ICEEngine
import Testing
@testable import ICEStatusTUI

/// The commented example config stays valid and means what its comments say.
struct AgentConfigTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/agent.yaml").path

    @Test func theExampleConfigLoadsWithItsDocumentedValues() throws {
        let dir = NSTemporaryDirectory() + "icestat-config-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let own = PeerKey(), bravo = PeerKey()
        try (own.privateKeyBase64 + "\n").write(toFile: "\(dir)/alpha.key", atomically: true, encoding: .utf8)
        chmod("\(dir)/alpha.key", 0o600)
        let text = try String(contentsOfFile: Self.example, encoding: .utf8)
            .replacingOccurrences(of: "REPLACE-WITH-BRAVO-PUBLIC-KEY=", with: bravo.publicKeyBase64)
        try text.write(toFile: "\(dir)/agent.yaml", atomically: true, encoding: .utf8)

        let loaded = try AgentConfigLoader.load(path: "\(dir)/agent.yaml")
        let mesh = loaded.mesh
        #expect(loaded.warnings.isEmpty)
        #expect(mesh.name == "alpha" && mesh.key.publicKeyBase64 == own.publicKeyBase64)
        #expect(mesh.signalHost == "127.0.0.1" && mesh.signalPort == 7600)
        #expect(mesh.lazy && mesh.inactivityThreshold == .seconds(900) && mesh.networkCheckInterval == .seconds(5))
        #expect(mesh.ice.stunServers.map(\.description) == ["127.0.0.1:3478"])
        #expect(mesh.ice.turnServers.map(\.username) == ["icestat"])
        #expect(mesh.ice.checkInterval == .milliseconds(50) && mesh.ice.disconnectedTimeout == .seconds(6)
                && mesh.ice.failedTimeout == .seconds(12) && mesh.ice.relayNominationDelay == .seconds(2))
        #expect(mesh.ice.socketBufferBytes == 2 << 20)
        #expect(mesh.peers.count == 1 && mesh.peers[0].name == "bravo" && mesh.peers[0].localPort == 51001
                && mesh.peers[0].publicKey == bravo.publicKeyBase64 && mesh.peers[0].service?.port == 51820)
    }

    @Test(arguments: [("512KiB", 512 << 10), ("4194304", 4 << 20), ("0", 0), ("1GiB", -1), ("12", -1), ("lots", -1), ("-1", -1)])
    func socketBufferSizes(text: String, bytes: Int) {
        #expect(parseByteSize("2MiB") == 2 << 20)
        let parsed = parseByteSize(text)
        let valid = parsed.map { $0 == 0 || (64 << 10 ... 256 << 20).contains($0) } ?? false
        #expect(valid ? parsed == bytes : bytes == -1)
    }
}
