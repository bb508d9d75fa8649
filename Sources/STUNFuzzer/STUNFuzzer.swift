import STUN

#if canImport(Glibc)
import Glibc
#endif

/// The libFuzzer target for the STUN and ChannelData decoders: every input is decoded both ways and, when it
/// decodes, every accessor and both integrity checks run on it. A trap, an overflow or (under AddressSanitizer)
/// a bad access is the failure. `scripts/fuzz.sh` builds it with `-sanitize=fuzzer,address` and runs it.
@_cdecl("LLVMFuzzerTestOneInput")
public func stunFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    exercise(bytes)
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

#if FUZZING
/// libFuzzer's driver, run from our own entry point (SwiftPM names the executable's main itself).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif

@main
enum STUNFuzzerMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, stunFuzzerTestOneInput))
        #else
        // Without libFuzzer (an ordinary build): replays the inputs in the files named on the command line, as
        // libFuzzer does with a crash file, so a finding can be reproduced under a debugger.
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { print("\(path): cannot open"); continue }
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = fread(&buffer, 1, buffer.count, file)
                if n <= 0 { break }
                bytes += buffer[..<n]
            }
            fclose(file)
            exercise(bytes)
            print("\(path): \(bytes.count) bytes, no crash")
        }
        #endif
    }
}
