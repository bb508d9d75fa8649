import STUN
import Testing

/// The one retransmission schedule that checks, gathering, TURN and NAT tests share, stepped by hand.
@Suite struct STUNClientTransactionTests {
    /// Runs a transaction until it gives up (or `limit` steps) and returns every wait it armed.
    private func waits(_ schedule: STUNRetransmission, limit: Int = 20) -> (waits: [Duration], gaveUp: Bool) {
        var t = STUNClientTransaction(schedule)
        var waits = [t.wait]
        for _ in 0..<limit {
            guard t.timerFired() == .retransmit else { return (waits, true) }
            waits.append(t.wait)
        }
        return (waits, false)
    }

    @Test func aConnectivityCheckIsSentSevenTimesThenFails() {
        let (waits, gaveUp) = waits(.connectivityCheck)
        #expect(waits == [250, 500, 1000, 1600, 1600, 1600, 1600].map { Duration.milliseconds($0) })
        #expect(gaveUp)
    }

    @Test func aTURNRequestFollowsRFC8489sSevenTransmissions() {
        let (waits, gaveUp) = waits(.turnRequest)
        #expect(waits.count == 7)
        #expect(gaveUp)
    }

    @Test func aScheduleWithoutACountRunsUntilItsOwnersDeadline() {
        let (waits, gaveUp) = waits(.untilDeadline, limit: 12)
        #expect(!gaveUp)
        #expect(waits.count == 13)
        #expect(waits.suffix(9).allSatisfy { $0 == .milliseconds(1600) })
    }

    @Test func aConfiguredScheduleKeepsItsOwnRTOAndCount() {
        let schedule = STUNRetransmission(initialRTO: .milliseconds(100), maxRTO: .milliseconds(300), maxRetransmissions: 2)
        let (waits, gaveUp) = waits(schedule)
        #expect(waits == [.milliseconds(100), .milliseconds(200), .milliseconds(300)])
        #expect(gaveUp)
        #expect(schedule.withoutLimit.maxRetransmissions == nil)
        #expect(schedule.withoutLimit.initialRTO == .milliseconds(100))
    }

    @Test func onlyAnAnswerToASingleSendIsTimed() {
        var t = STUNClientTransaction(.connectivityCheck)
        #expect(t.roundTrip(elapsed: .milliseconds(42)) == .milliseconds(42))
        #expect(!t.isRetransmitted)
        #expect(t.timerFired() == .retransmit)
        #expect(t.isRetransmitted)
        #expect(t.transmissions == 2)
        #expect(t.roundTrip(elapsed: .milliseconds(42)) == nil) // Karn's rule
    }
}
