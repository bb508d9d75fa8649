import Foundation

/// Where the status socket lives by default: `$XDG_RUNTIME_DIR/icestat/status.sock`, else
/// `/tmp/icestat-<uid>/status.sock`. The directory is created owner-only (0700).
enum StatusSocketPath {
    static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        if let runtime = env["XDG_RUNTIME_DIR"], !runtime.isEmpty {
            return "\(runtime)/icestat/status.sock"
        }
        return "/tmp/icestat-\(getuid())/status.sock"
    }

    /// Makes the socket's directory if needed and checks that only its owner can enter it.
    static func prepareDirectory(for path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty else { return }
        if mkdir(directory, 0o700) != 0, errno != EEXIST {
            throw StatusSocketError.cannotCreateDirectory(directory, String(cString: strerror(errno)))
        }
        var info = stat()
        guard stat(directory, &info) == 0 else { throw StatusSocketError.cannotCreateDirectory(directory, "stat failed") }
        if info.st_uid != getuid() {
            throw StatusSocketError.insecureDirectory(directory, "owned by uid \(info.st_uid), not \(getuid())")
        }
    }
}

/// Failures of the status socket, worded for operators.
enum StatusSocketError: Error, CustomStringConvertible {
    case cannotCreateDirectory(String, String)
    case insecureDirectory(String, String)
    case alreadyServing(String)
    case noAgent(String)
    case protocolError(String)
    /// The agent does not serve the request (an older agent); its answer.
    case refused(String)

    var description: String {
        switch self {
        case .cannotCreateDirectory(let d, let why): "cannot create status socket directory \(d): \(why)"
        case .insecureDirectory(let d, let why): "refusing status socket directory \(d): \(why)"
        case .alreadyServing(let p): "another icestat agent is already serving \(p)"
        case .noAgent(let p):
            "no icestat agent is running at \(p).\nStart one with `icestat demo` (a mesh on loopback) or `icestat up --config FILE`, or pass --socket PATH."
        case .protocolError(let why): "status socket: \(why)"
        case .refused(let why): "status socket refused the request: \(why)"
        }
    }
}
