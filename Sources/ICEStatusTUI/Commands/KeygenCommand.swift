import ArgumentParser
import Foundation
import ICEEngine

/// `icestat keygen FILE`: writes a new private key (mode 0600) and prints its public key.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a new key pair: the private key to FILE (mode 0600), the public key to stdout.")

    @Argument(help: ArgumentHelp("Where to write the private key (base64).", valueName: "file"))
    var file: String

    @Flag(name: .long, help: "Replace FILE if it exists.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: file), !force {
            StandardOutput.error("icestat keygen: \(file) exists; use --force to replace it")
            throw ExitCode(1)
        }
        let key = PeerKey()
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            StandardOutput.error("icestat keygen: cannot write \(file): \(String(cString: strerror(errno)))")
            throw ExitCode(1)
        }
        fchmod(fd, 0o600)
        let text = Array((key.privateKeyBase64 + "\n").utf8)
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == text.count else {
            StandardOutput.error("icestat keygen: cannot write \(file)")
            throw ExitCode(1)
        }
        print(key.publicKeyBase64)
    }
}
