import Synchronization

/// How many ICE sessions and TURN clients exist in the process right now, counted at creation and at
/// deinit: a session that was closed but is still held somewhere (a leak) stays counted. Read by
/// `icestat bench soak`.
package enum EngineCensus {
    /// ``ICEAgent`` instances alive.
    package static let agents = Atomic<Int>(0)
    /// ``TURNClient`` instances alive.
    package static let turnClients = Atomic<Int>(0)
}
