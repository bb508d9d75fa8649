import Foundation
import Testing

/// `icestat bench soak` for 30 seconds: paths cut and restored under real peer connections, a TURN relay
/// on loopback, and afterwards nothing left over.
@Suite struct SoakTests {
    @Test func thirtySecondsOfCutPathsLeaveNothingBehind() throws {
        let r = try Harness.icestat(["bench", "soak", "--seconds", "30", "--peers", "10", "--seed", "7"], timeout: 180)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("counts back to baseline: yes"), "\(r.stdout)")
        #expect(lines.contains("Connected at the end: 10 of 10 (P2P: 10)"), "\(r.stdout)")
        // The churn happened: every kind of event the soak is for was seen.
        let churn = try #require(lines.first { $0.hasPrefix("churn: ") }, "\(r.stdout)")
        let counts = churn.split(separator: " ").compactMap { Int($0) }
        #expect(counts.count == 3 && counts.allSatisfy { $0 > 0 }, "\(r.stdout)")
        for prefix in ["after warm-up   RSS ", "at the end      RSS ", "RSS growth from warm-up to end: "] {
            #expect(lines.contains { $0.hasPrefix(prefix) }, "no '\(prefix)' in:\n\(r.stdout)")
        }
    }
}
