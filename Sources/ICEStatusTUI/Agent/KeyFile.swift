import Foundation
import ICEEngine

/// The agent's key file: the base64 private key and a newline, mode 0600 from the moment it exists.
package enum KeyFile {
    package struct WriteError: Error, CustomStringConvertible {
        package var description: String
    }

    package static func write(_ key: PeerKey, to path: String) throws(WriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw WriteError(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600) // an existing file keeps its mode through O_CREAT
        let text = Array((key.privateKeyBase64 + "\n").utf8)
        let written = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == text.count else { throw WriteError(description: "cannot write \(path)") }
    }
}
