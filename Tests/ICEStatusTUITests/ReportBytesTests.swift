import ICETestSupport
import Testing
@testable import ICEStatusTUI

/// The report's byte writer: exact numbers, value semantics, and growth that keeps every byte.
struct ReportBytesTests {
    private func text(_ b: ReportBytes) -> String { String(decoding: b.bytes, as: UTF8.self) }

    @Test func decimalsAreWhatStringWrites() {
        var rng = SeededGenerator(seed: 12)
        let edges: [Int64] = [0, 1, -1, 9, 10, 99, 100, Int64.max, Int64.min, 1_000_000_007]
        for n in edges + (0..<5000).map({ _ in Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64) }) {
            var b = ReportBytes()
            b.put(decimal: n)
            #expect(text(b) == String(n))
            var u = ReportBytes()
            u.put(decimal: n.magnitude)
            #expect(text(u) == String(n.magnitude))
        }
        var padded = ReportBytes()
        padded.put(decimal: 7, zeroPaddedTo: 3); padded.put(byte: 32)
        padded.put(decimal: 1234, zeroPaddedTo: 3); padded.put(byte: 32)
        padded.put(decimal: 0, zeroPaddedTo: 4)
        #expect(text(padded) == "007 1234 0000")
    }

    @Test func aCopyWrittenToKeepsItsOwnBytes() {
        var a = ReportBytes(capacity: 8)
        a.put("abc")
        var b = a
        b.put("d")
        a.put("e")
        #expect(text(a) == "abce")
        #expect(text(b) == "abcd")
        let c = a
        a.put(text: String(repeating: "x", count: 100)) // grows while `c` still shares the block
        #expect(text(c) == "abce")
        #expect(text(a) == "abce" + String(repeating: "x", count: 100))
    }

    @Test func growingFromNothingKeepsEveryByte() {
        var rng = SeededGenerator(seed: 5)
        var b = ReportBytes()
        var expected: [UInt8] = []
        for i in 0..<20_000 {
            switch rng.next() % 4 {
            case 0: b.put(text: "peer-\(i).mesh.internal ✓"); expected += Array("peer-\(i).mesh.internal ✓".utf8)
            case 1: b.put(spaces: i % 7); expected += [UInt8](repeating: 32, count: i % 7)
            case 2: b.put(byte: UInt8(i % 256)); expected.append(UInt8(i % 256))
            default: b.put("static "); expected += Array("static ".utf8)
            }
        }
        #expect(b.count == expected.count)
        #expect(b.bytes == expected)
    }

    @Test func literalsOfEveryLengthAndLineBreaksAreWrittenWhole() {
        var b = ReportBytes()
        let one: StaticString = "/"
        let accented: StaticString = "é"
        b.put(one); b.put(accented); b.put(""); b.put("long literal, ✓")
        b.put(text: "")
        b.putLineBreak(after: nil, indent: 0, before: nil)
        b.putLineBreak(after: UInt8(ascii: ","), indent: 3, before: 34)
        b.putLineBreak(after: nil, indent: 40, before: nil)
        #expect(text(b) == "/élong literal, ✓\n,\n   \"\n" + String(repeating: " ", count: 40))
    }

    @Test func humanFormatsWrittenInPlaceMatchTheirWords() {
        let now: Int64 = 10_000_000
        #expect(StatusFormatting.timeAgo(nil, now: now) == "-")
        #expect(StatusFormatting.timeAgo(now, now: now) == "Now")
        #expect(StatusFormatting.timeAgo(now - 1_000, now: now) == "1 second ago")
        #expect(StatusFormatting.timeAgo(now - 123_000, now: now) == "2 minutes, 3 seconds ago")
        #expect(StatusFormatting.timeAgo(now - 3_600_000, now: now) == "1 hour ago")
        #expect(StatusFormatting.timeAgo(now - 9_000_000, now: now) == "2 hours, 30 minutes ago")
        #expect(StatusFormatting.timeAgo(1, now: 90_000_000 * 1000) == "1041 days, 15 hours ago")
        #expect(StatusFormatting.bytes(1000) == "1000 B")
        #expect(StatusFormatting.bytes(2048) == "2.0 KiB")
        #expect(StatusFormatting.bytes(1_825_361_101) == "1.7 GiB")
        #expect(StatusFormatting.bytes(UInt64.max) == "16.0 EiB")
        #expect(StatusFormatting.latency(142_400) == "0.142 ms")
        #expect(StatusFormatting.latency(12_345_678) == "12.346 ms")
        #expect(StatusFormatting.latency(nil) == "-")
        var retry = ReportBytes()
        StatusFormatting.retry(now + 5_500, now: now, into: &retry); retry.put(byte: 32)
        StatusFormatting.retry(now, now: now, into: &retry); retry.put(byte: 32)
        StatusFormatting.retry(nil, now: now, into: &retry)
        #expect(text(retry) == "in 6 s now -")
    }
}
