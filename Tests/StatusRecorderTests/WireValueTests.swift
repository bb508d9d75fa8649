import ICETestSupport
import Testing
@testable import StatusRecorder

/// A value read in place from a line's bytes reads as its string would.
struct WireValueTests {
    private func read<R>(_ text: String, escaped: Bool = false, _ body: (WireValue) -> R) -> R {
        Array(text.utf8).withUnsafeBufferPointer { body(WireValue(bytes: $0, hasEscape: escaped)) }
    }

    @Test func integersReadAsTheStandardLibraryReadsThem() {
        var rng = SeededGenerator(seed: 77)
        let alphabet = Array("0123456789-+ x".utf8)
        var cases = ["", "0", "-0", "+0", "-", "+", "00012", "9223372036854775807", "9223372036854775808",
                     "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
                     "4294967295", "4294967296", "1 ", " 1", "1x", "--1", "+-1"]
        for _ in 0..<5000 {
            let length = rng.next(22)
            cases.append(String(decoding: (0..<length).map { _ in alphabet[rng.next(rng.next(4) == 0 ? alphabet.count : 10)] }, as: UTF8.self))
        }
        for text in cases {
            #expect(read(text) { $0.integer(Int64.self) } == Int64(text), "\(text)")
            #expect(read(text) { $0.integer(UInt64.self) } == UInt64(text), "\(text)")
            #expect(read(text) { $0.integer(Int.self) } == Int(text), "\(text)")
            #expect(read(text) { $0.integer(UInt32.self) } == UInt32(text), "\(text)")
        }
    }

    @Test func escapedValuesReadUnescaped() {
        #expect(read("a\\tb\\nc\\\\d", escaped: true) { $0.string } == "a\tb\nc\\d")
        #expect(read("1\\2", escaped: true) { $0.integer(Int.self) } == 12)
        #expect(read("\\1", escaped: true) { $0.isOne })
        #expect(read("1") { $0.isOne })
        #expect(!read("10") { $0.isOne })
        #expect(WireValue.absent.isEmpty && WireValue.absent.string == "")
    }
}
