import FuzzDriver
import StatusRecorder

/// The libFuzzer target for the status stream decoder (what `icestat --detail` and the dashboard read from an
/// agent). Each input is decoded twice: whole, and cut into pieces (the first byte sets their length) as a
/// socket may deliver it; both must agree, batch for batch. Every batch must then survive its own encoding:
/// what icestat writes for a batch it read must decode again, to the same peers, and encode again to the
/// same bytes. A trap, a disagreement or (under AddressSanitizer) a bad access is the failure.
/// `scripts/fuzz.sh` builds it with `-sanitize=fuzzer,address` and runs it beside the others.
@_cdecl("LLVMFuzzerTestOneInput")
public func statusFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    exercise(FuzzDriver.bytes(data, size))
    return 0
}

func exercise(_ bytes: [UInt8]) {
    let whole = decode([bytes[...]])
    let step = Int(bytes.first ?? 0) % 61 + 1
    let pieces = stride(from: 0, to: bytes.count, by: step).map { bytes[$0..<min($0 + step, bytes.count)] }
    let split = decode(pieces)
    switch (whole, split) {
    case (.success(let a), .success(let b)):
        if a != b { fatalError("the same stream decoded differently when cut in pieces of \(step)") }
        for batch in a { roundTrip(batch) }
    case (.failure, .failure):
        break
    default:
        fatalError("the same stream decoded whole and in pieces of \(step): one failed, the other did not")
    }
}

/// Every batch the bytes complete, or the first error.
private func decode(_ pieces: [ArraySlice<UInt8>]) -> Result<[StatusChange], StatusWireError> {
    var decoder = StatusWireDecoder()
    var batches: [StatusChange] = []
    do {
        for piece in pieces { batches += try decoder.feed(piece) }
        return .success(batches)
    } catch {
        return .failure(error)
    }
}

private func roundTrip(_ batch: StatusChange) {
    var once: [UInt8] = []
    StatusWireFormat.appendHeader(to: &once)
    StatusWireFormat.appendChange(batch, to: &once)
    guard case .success(let again) = decode([once[...]]), again.count == 1 else {
        fatalError("a decoded batch does not decode after encoding: \(batch)")
    }
    let back = again[0]
    if back.peers.map(\.id) != batch.peers.map(\.id) || back.removedPeerIDs != batch.removedPeerIDs
        || back.events.count != batch.events.count || (back.local == nil) != (batch.local == nil) {
        fatalError("a batch changed its peers through encoding: \(batch) became \(back)")
    }
    var twice: [UInt8] = []
    StatusWireFormat.appendHeader(to: &twice)
    StatusWireFormat.appendChange(back, to: &twice)
    if twice != once { fatalError("a batch does not encode to the same bytes after a round trip: \(back)") }
}

@main
enum StatusFuzzerMain {
    static func main() { FuzzDriver.main(statusFuzzerTestOneInput) }
}
