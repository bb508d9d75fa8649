import FuzzDriver
import NIOCore
import SignalWire

/// The libFuzzer target for the signal frame decoder: each input is split as the TCP stream decoder splits it
/// (4-byte big-endian lengths, ``SignalFrame/maxLength``), and every frame that decodes is encoded again and
/// must decode to the same frame. A trap, an overflow, a frame that does not survive its own encoding or
/// (under AddressSanitizer) a bad access is the failure. `scripts/fuzz.sh` builds it with
/// `-sanitize=fuzzer,address` and runs it beside the STUN one.
@_cdecl("LLVMFuzzerTestOneInput")
public func signalFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

func exercise(_ bytes: [UInt8]) {
    // The whole input as one frame body, as a length-prefixed stream would deliver it.
    check(ByteBuffer(bytes: bytes))
    // The input as a TCP stream, split as the connection's decoder splits it, until it stops or is refused.
    var stream = ByteBuffer(bytes: bytes)
    while let frame = try? SignalFrameDecoder.nextFrame(from: &stream) { check(frame) }
}

private func check(_ body: ByteBuffer) {
    guard let frame = try? SignalFrame(decoding: body) else { return }
    check(frame)
}

private func check(_ frame: SignalFrame) {
    var again = ByteBuffer()
    frame.encode(into: &again)
    guard let twice = try? SignalFrame(decoding: again) else { fatalError("a decoded frame does not decode after encoding: \(frame)") }
    // Encoding keeps at most 512 characters of a text; anything shorter must come back as it was.
    switch frame {
    case .error(let text) where text.count > 512, .refused(_, let text) where text.count > 512: return
    default: if twice != frame { fatalError("a frame changed through encoding: \(frame) became \(twice)") }
    }
}

@main
enum SignalFuzzerMain {
    static func main() { FuzzDriver.main(signalFuzzerTestOneInput) }
}
