import STUN

/// Why a TURN operation failed, worded for operators.
public enum TURNError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused our credentials (401 after an authenticated attempt).
    case unauthorized(server: String, realm: String?)
    /// The server answered with another error code.
    case rejected(code: Int, reason: String)
    /// No answer after every retransmission.
    case timedOut(String)
    /// The client was closed, or has no allocation yet.
    case notAllocated
    case malformedResponse(String)
    /// The TCP or TLS connection to the server could not be made, or ended (the reason says which).
    case connectionFailed(server: String, reason: String)

    public var description: String {
        switch self {
        case .unauthorized(let server, let realm):
            "TURN server \(server) refused the credentials\(realm.map { " for realm \"\($0)\"" } ?? ""): check the user and password"
        case .rejected(let code, let reason): "TURN error \(code) \(reason)"
        case .timedOut(let what): "TURN \(what): no answer from the server"
        case .notAllocated: "TURN: no allocation"
        case .malformedResponse(let what): "TURN: malformed \(what) response"
        case .connectionFailed(let server, let reason): "TURN server \(server): \(reason)"
        }
    }
}
