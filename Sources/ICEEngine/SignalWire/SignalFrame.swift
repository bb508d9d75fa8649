import NIOCore

/// One frame of the signal protocol between an agent and `icestat signal`, carried over TCP behind a 4-byte
/// big-endian length (see ``SignalFrameDecoder``). Keys are the 32 raw bytes of Curve25519 public keys.
///
/// Registration: the agent sends `hello` with its key; the server answers `challenge` with a fresh ephemeral
/// key and nonce; the agent answers `proof`, an HMAC of the nonce under a key only the holder of the private
/// key can derive (``SignalRegistration``); the server answers `welcome`. Only then are other frames accepted.
/// The `body` of `send`/`deliver` is end-to-end sealed between the two agents (``SignalSealer``): the server
/// routes it by key and never reads it.
public enum SignalFrame: Sendable, Hashable {
    case hello(publicKey: [UInt8])
    case challenge(serverKey: [UInt8], nonce: [UInt8])
    case proof(mac: [UInt8])
    case welcome
    /// The agent wants presence notices for these keys.
    case subscribe(keys: [[UInt8]])
    /// A subscribed key came online or went away (also the answer to a `send` to a key that is away).
    case presence(key: [UInt8], online: Bool)
    case send(to: [UInt8], body: [UInt8])
    case deliver(from: [UInt8], body: [UInt8])
    /// The server explains why it is about to close the connection.
    case error(String)
    /// The server could not pass a `send` to this key on, and says why (another node unreachable, a message too
    /// big to cross nodes); the connection stays open.
    case refused(to: [UInt8], reason: String)

    /// Largest frame either side accepts; bigger ones close the connection.
    public static let maxLength = 16 * 1024
    /// Largest number of keys in one `subscribe`.
    public static let maxSubscriptions = 4096

    private enum Kind: UInt8 {
        case hello = 1, challenge, proof, welcome, subscribe, presence, send, deliver, error, refused
    }

    /// Appends the frame, without its length prefix.
    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .hello(let key):
            buffer.writeInteger(Kind.hello.rawValue)
            buffer.writeBytes(key)
        case .challenge(let serverKey, let nonce):
            buffer.writeInteger(Kind.challenge.rawValue)
            buffer.writeBytes(serverKey)
            buffer.writeBytes(nonce)
        case .proof(let mac):
            buffer.writeInteger(Kind.proof.rawValue)
            buffer.writeBytes(mac)
        case .welcome:
            buffer.writeInteger(Kind.welcome.rawValue)
        case .subscribe(let keys):
            buffer.writeInteger(Kind.subscribe.rawValue)
            for key in keys { buffer.writeBytes(key) }
        case .presence(let key, let online):
            buffer.writeInteger(Kind.presence.rawValue)
            buffer.writeBytes(key)
            buffer.writeInteger(online ? UInt8(1) : 0)
        case .send(let to, let body):
            buffer.writeInteger(Kind.send.rawValue)
            buffer.writeBytes(to)
            buffer.writeBytes(body)
        case .deliver(let from, let body):
            buffer.writeInteger(Kind.deliver.rawValue)
            buffer.writeBytes(from)
            buffer.writeBytes(body)
        case .error(let text):
            buffer.writeInteger(Kind.error.rawValue)
            buffer.writeString(String(text.prefix(512)))
        case .refused(let to, let reason):
            buffer.writeInteger(Kind.refused.rawValue)
            buffer.writeBytes(to)
            buffer.writeString(String(reason.prefix(512)))
        }
    }

    /// Decodes one frame (without its length prefix); the whole buffer must be the frame.
    public init(decoding buffer: ByteBuffer) throws(SignalProtocolError) {
        var buffer = buffer
        guard let raw = buffer.readInteger(as: UInt8.self), let kind = Kind(rawValue: raw) else {
            throw .malformed("unknown frame type")
        }
        func key() throws(SignalProtocolError) -> [UInt8] {
            guard let bytes = buffer.readBytes(length: 32) else { throw .malformed("truncated key") }
            return bytes
        }
        func finish() throws(SignalProtocolError) {
            guard buffer.readableBytes == 0 else { throw .malformed("trailing bytes") }
        }
        switch kind {
        case .hello:
            self = .hello(publicKey: try key()); try finish()
        case .challenge:
            let serverKey = try key()
            self = .challenge(serverKey: serverKey, nonce: try key()); try finish()
        case .proof:
            self = .proof(mac: try key()); try finish()
        case .welcome:
            self = .welcome; try finish()
        case .subscribe:
            guard buffer.readableBytes % 32 == 0, buffer.readableBytes / 32 <= Self.maxSubscriptions else {
                throw .malformed("bad subscription list")
            }
            var keys: [[UInt8]] = []
            while buffer.readableBytes > 0 { keys.append(try key()) }
            self = .subscribe(keys: keys)
        case .presence:
            let k = try key()
            guard let flag = buffer.readInteger(as: UInt8.self), flag <= 1 else { throw .malformed("bad presence flag") }
            self = .presence(key: k, online: flag == 1); try finish()
        case .send:
            let to = try key()
            self = .send(to: to, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .deliver:
            let from = try key()
            self = .deliver(from: from, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .error:
            guard let text = buffer.readString(length: buffer.readableBytes) else { throw .malformed("bad text") }
            self = .error(text)
        case .refused:
            let to = try key()
            guard let text = buffer.readString(length: buffer.readableBytes) else { throw .malformed("bad text") }
            self = .refused(to: to, reason: text)
        }
    }
}

/// Why a signal frame or sealed message was refused.
public enum SignalProtocolError: Error, Hashable, CustomStringConvertible {
    case malformed(String)
    case oversized(Int)
    case unexpected(String)
    case authentication(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed frame: \(why)"
        case .oversized(let length): "oversized frame: \(length) bytes (limit \(SignalFrame.maxLength))"
        case .unexpected(let why): "unexpected frame: \(why)"
        case .authentication(let why): "authentication failed: \(why)"
        }
    }
}
