import Dispatch
import Foundation

/// Waits for SIGINT or SIGTERM.
package enum SignalWaiter {
    /// Returns on SIGINT, SIGTERM or after `seconds`.
    package static func wait(seconds: Double?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            let queue = DispatchQueue(label: "icestat.signals")
            var sources: [DispatchSourceSignal] = []
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
                source.setEventHandler { if once.set() { continuation.resume() } }
                source.resume()
                sources.append(source)
            }
            if let seconds {
                queue.asyncAfter(deadline: .now() + seconds) { if once.set() { continuation.resume() } }
            }
            SignalSources.keep(sources)
        }
    }
}

/// Keeps signal sources alive for the life of the process.
enum SignalSources {
    nonisolated(unsafe) private static var kept: [DispatchSourceSignal] = []
    static func keep(_ sources: [DispatchSourceSignal]) { kept += sources }
}

/// True the first time `set` is called.
final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func set() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        done = true
        return true
    }
}
