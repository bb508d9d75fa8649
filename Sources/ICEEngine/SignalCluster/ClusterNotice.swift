import Foundation

/// One line of a NOTIFY payload between signal nodes. Payloads are text: lines joined by newlines, keys and
/// sealed bodies in base64, so a payload never needs escaping.
///
/// On a node's own channel (`icestat_node_<id>`): `m FROM TO BODY`, a sealed body for an agent there.
/// On the shared presence channel: `on NODE KEY`, `off NODE KEY` (an agent registered on NODE or left it) and
/// `dead NODE` (NODE missed its heartbeats; its agents are gone).
enum ClusterNotice: Equatable {
    case message(from: [UInt8], to: [UInt8], body: [UInt8])
    case online(node: String, key: [UInt8])
    case offline(node: String, key: [UInt8])
    case dead(node: String)

    /// PostgreSQL's limit on a NOTIFY payload (bytes, less one).
    static let payloadLimit = 7_999

    var line: String {
        switch self {
        case .message(let from, let to, let body):
            "m \(Self.base64(from)) \(Self.base64(to)) \(Self.base64(body))"
        case .online(let node, let key): "on \(node) \(Self.base64(key))"
        case .offline(let node, let key): "off \(node) \(Self.base64(key))"
        case .dead(let node): "dead \(node)"
        }
    }

    /// Parses one line; nil for anything malformed (a newer node's line, or damage), which is skipped.
    init?(line: Substring) {
        let f = line.split(separator: " ", omittingEmptySubsequences: false)
        switch (f.first, f.count) {
        case ("m", 4):
            guard let from = Self.key(f[1]), let to = Self.key(f[2]), let body = Data(base64Encoded: String(f[3])) else { return nil }
            self = .message(from: from, to: to, body: Array(body))
        case ("on", 3):
            guard ClusterNodeID.isValid(f[1]), let key = Self.key(f[2]) else { return nil }
            self = .online(node: String(f[1]), key: key)
        case ("off", 3):
            guard ClusterNodeID.isValid(f[1]), let key = Self.key(f[2]) else { return nil }
            self = .offline(node: String(f[1]), key: key)
        case ("dead", 2):
            guard ClusterNodeID.isValid(f[1]) else { return nil }
            self = .dead(node: String(f[1]))
        default:
            return nil
        }
    }

    /// Every well-formed notice of a payload, and the number of lines skipped.
    static func parse(_ payload: String) -> (notices: [ClusterNotice], skipped: Int) {
        var notices: [ClusterNotice] = [], skipped = 0
        for line in payload.split(separator: "\n") {
            if let notice = ClusterNotice(line: line) { notices.append(notice) } else { skipped += 1 }
        }
        return (notices, skipped)
    }

    /// Packs lines into as few payloads as fit under ``payloadLimit``; a line too long alone is left out
    /// (callers refuse such messages before they get here).
    static func pack(_ lines: [String]) -> [String] {
        var payloads: [String] = [], current = "", size = 0
        for line in lines {
            let length = line.utf8.count
            guard length <= payloadLimit else { continue }
            if size > 0, size + 1 + length > payloadLimit {
                payloads.append(current)
                current = ""
                size = 0
            }
            if size > 0 { current += "\n"; size += 1 }
            current += line
            size += length
        }
        if size > 0 { payloads.append(current) }
        return payloads
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    static func key(_ text: Substring) -> [UInt8]? {
        guard let data = Data(base64Encoded: String(text)), data.count == 32 else { return nil }
        return Array(data)
    }
}

/// Node ids: 1 to 40 letters, digits, `-` or `_`, so that they fit a channel name and a payload line as they are.
public enum ClusterNodeID {
    public static func isValid<S: StringProtocol>(_ id: S) -> Bool {
        (1...40).contains(id.utf8.count) && id.utf8.allSatisfy {
            (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) || $0 == 45 || $0 == 95
        }
    }

    /// A random id of 8 hexadecimal digits.
    public static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        return String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &rng))
    }

    /// The NOTIFY channel of a node.
    static func channel(_ id: String) -> String { "icestat_node_\(id)" }
}
