import StatusRecorder
import STUN
import ICE
import Signal

/// Traffic of one peer counted since the last report to the recorder.
struct TrafficTally {
    var sent: UInt64 = 0
    var received: UInt64 = 0
    var drops = DatagramDrops()

    var isEmpty: Bool { sent == 0 && received == 0 && drops.isEmpty }
}
