import ArgumentParser
import ICEEngine
import ICEStatusTUI

/// `icestat bench fuzz`: feeds mutated and random datagrams to the STUN and ChannelData decoders (and every
/// accessor and integrity check on what decodes). A crash or trap is the failure; the run prints what it saw.
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the STUN and ChannelData decoders with N generated inputs (mutations of valid messages and random bytes).")

    @Option(name: .long, help: "Number of inputs.")
    var inputs = 1_000_000

    @Option(name: .long, help: "Seed, for a repeatable run.")
    var seed: UInt64 = 1

    func run() async throws {
        var rng = SplitMix64(seed: seed)
        let seeds = Self.seedMessages()
        var decoded = 0, verified = 0, channelData = 0
        for i in 0..<inputs {
            var bytes: [UInt8]
            switch i % 4 {
            case 0, 1: // a valid message with a few bytes changed, inserted or removed
                bytes = seeds[Int(rng.next() % UInt64(seeds.count))]
                for _ in 0...(rng.next() % 4) {
                    let at = Int(rng.next() % UInt64(max(1, bytes.count)))
                    switch rng.next() % 3 {
                    case 0 where !bytes.isEmpty: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: min(at, bytes.count))
                    default: if !bytes.isEmpty { bytes.remove(at: at) }
                    }
                }
            case 2: // random bytes that pass the first checks (type bits, cookie, a plausible length)
                let n = 20 + Int(rng.next() % 25) * 4
                bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                bytes[0] &= 0x3F
                bytes[2] = UInt8((n - 20) >> 8)
                bytes[3] = UInt8((n - 20) & 0xFF)
                bytes[4...7] = [0x21, 0x12, 0xA4, 0x42]
            default: // ChannelData-shaped
                let n = Int(rng.next() % 64)
                bytes = [0x40 | UInt8(rng.next() % 16), UInt8(truncatingIfNeeded: rng.next()), 0, UInt8(truncatingIfNeeded: rng.next() % 80)]
                bytes += (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            if let (_, data) = ChannelData.decode(bytes) { channelData += data.isEmpty ? 0 : 1 }
            guard let m = try? STUNMessage(decoding: bytes) else { continue }
            decoded += 1
            _ = (m.username, m.realm, m.nonce, m.software, m.priority, m.lifetime, m.errorCode, m.data, m.channelNumber)
            _ = (m.xorAddress(), m.xorAddress(.xorPeerAddress), m.xorAddress(.xorRelayedAddress), m.mappedAddress)
            _ = (m.iceControlling, m.iceControlled, m.useCandidate, m.hasValidFingerprint)
            if m.verifyIntegrity(key: Array("VOkJxbRl1RmTxUk/WvJxBt".utf8)) { verified += 1 }
        }
        print("fuzzed \(inputs) inputs (seed \(seed)): \(decoded) decoded as STUN, \(verified) still verified, \(channelData) ChannelData with data; no crash")
    }

    static func seedMessages() -> [[UInt8]] {
        var out = [STUNBench.sampleRequest]
        var response = STUNMessageBuilder(type: .bindingSuccess)
        response.appendXORAddress(.xorMappedAddress, TransportAddress("[2001:db8::1]:3478")!)
        response.appendMessageIntegrity(key: Array("VOkJxbRl1RmTxUk/WvJxBt".utf8))
        response.appendFingerprint()
        out.append(response.encoded)
        var allocate = STUNMessageBuilder(type: STUNMessageType(method: .allocate, messageClass: .errorResponse))
        allocate.appendErrorCode(401, reason: "Unauthorized")
        allocate.append(.realm, string: "icestat.test")
        allocate.append(.nonce, string: "0123456789abcdef")
        allocate.appendFingerprint()
        out.append(allocate.encoded)
        var data = STUNMessageBuilder(type: STUNMessageType(method: .data, messageClass: .indication))
        data.appendXORAddress(.xorPeerAddress, TransportAddress("127.0.0.1:5000")!)
        data.append(.data, Array("payload".utf8))
        out.append(data.encoded)
        return out
    }
}

/// A small, fast, seedable generator (SplitMix64), so a fuzz run can be repeated.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
