#if canImport(Glibc)
import Glibc
#endif
import StatusRecorder

/// A one-shot, blocking read of a status socket: connect, send one request, hand the stream to a sink until its
/// first batch ends. For the one-shot reports (`--detail`, `--json`, `--yaml`, `--check`), whose whole life is
/// this one exchange: a plain socket saves them starting an event loop, which is most of a small report's time
/// (the live readers, the dashboard and `events --follow`, use ``StatusSocketClient`` on swift-nio).
enum StatusSocketReader {
    /// Reads until `sink`'s first batch is whole. Throws ``StatusSocketError/noAgent(_:)`` when nothing listens at
    /// `path`, and ``StatusSocketError/protocolError(_:)`` when the stream is not a status stream or ends early.
    static func read<Sink: StatusStreamSink>(path: String, request: StatusRequest, into sink: inout Sink,
                                             done: (Sink) -> Bool) throws(StatusSocketError) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .noAgent(path) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw .noAgent(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw .noAgent(path) }
        let line = Array((request.line + "\n").utf8)
        guard writeAll(fd, line) else { throw .protocolError("the agent closed the connection") }
        var decoder = StatusWireDecoder()
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        var received = 0
        while !done(sink) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .protocolError("reading the status socket: \(String(cString: strerror(errno)))")
            }
            guard n > 0 else {
                throw .protocolError(received == 0 ? "the agent closed the connection"
                                     : "the agent closed the connection after \(received) bytes, before the report was complete")
            }
            received += n
            do {
                try decoder.feed(buffer[0..<n], into: &sink)
            } catch {
                throw .protocolError("\(error)")
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += n
        }
        return true
    }
}
