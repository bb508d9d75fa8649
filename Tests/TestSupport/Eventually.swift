import Foundation

/// The tests' one polling helper: checks `condition` every `interval` until it holds or `seconds` pass, and
/// says whether it held. For conditions on real sockets and processes; virtual-time tests need none.
package func eventually(seconds: Double, every interval: Duration = .milliseconds(20),
                        _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}

/// ``eventually(seconds:every:_:)`` for synchronous tests and harnesses: blocks the calling thread.
package func eventuallyBlocking(seconds: Double, every interval: Duration = .milliseconds(100),
                                _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)
    }
    return try condition()
}
