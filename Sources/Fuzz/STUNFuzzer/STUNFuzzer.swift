import FuzzDriver
import STUN

/// The libFuzzer target for the STUN and ChannelData decoders: every input is decoded both ways and, when it
/// decodes, every accessor and both integrity checks run on it. A trap, an overflow or (under AddressSanitizer)
/// a bad access is the failure. `scripts/fuzz.sh` builds it with `-sanitize=fuzzer,address` and runs it.
@_cdecl("LLVMFuzzerTestOneInput")
public func stunFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

private let integrityKey = STUNIntegrityKey(Array("VOkJxbRl1RmTxUk/WvJxBt".utf8))

func exercise(_ bytes: [UInt8]) {
    _ = ChannelData.decode(bytes)
    guard let m = try? STUNMessage(decoding: bytes) else { return }
    _ = (m.username, m.realm, m.nonce, m.software, m.priority, m.lifetime, m.errorCode, m.data, m.channelNumber)
    _ = (m.xorAddress(), m.xorAddress(.xorPeerAddress), m.xorAddress(.xorRelayedAddress), m.mappedAddress)
    _ = (m.iceControlling, m.iceControlled, m.useCandidate, m.hasValidFingerprint, m.unknownRequiredAttributes)
    _ = m.verifyIntegrity(key: Array("VOkJxbRl1RmTxUk/WvJxBt".utf8))
    _ = m.verifyMessageIntegrity(key: integrityKey)
}

@main
enum STUNFuzzerMain {
    static func main() { FuzzDriver.main(stunFuzzerTestOneInput) }
}
