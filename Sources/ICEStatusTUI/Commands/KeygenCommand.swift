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
        do {
            try KeyFile.write(key, to: file)
        } catch {
            StandardOutput.error("icestat keygen: \(error)")
            throw ExitCode(1)
        }
        print(key.publicKeyBase64)
    }
}
