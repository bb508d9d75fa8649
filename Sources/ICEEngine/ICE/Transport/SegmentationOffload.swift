import Foundation
import NIOCore
import Synchronization
import STUN

/// Whether data writes use UDP GSO, process-wide. On where the kernel supports it (Linux 4.18 and later)
/// unless the environment says `ICESTAT_UDP_GSO=0`; off for good once the kernel refuses one GSO write.
///
/// A refusal (EIO from a device without checksum offload or under IPsec, EINVAL for a segment over the
/// route's MTU) is fatal to the socket in NIO, so that socket closes, and every later write is plain. Its
/// session is left to recover as from any lost socket; that recovery is not tested with a GSO refusal.
/// ``BatchedWriter`` also keeps each segment within its interface's MTU, so the common cause never arises.
enum SegmentationOffload {
    private static let refused = Atomic<Bool>(false)
    private static let configured: Bool = System.supportsUDPSegmentationOffload
        && ProcessInfo.processInfo.environment["ICESTAT_UDP_GSO"] != "0"

    /// Whether a write may be a GSO write now.
    static var enabled: Bool { configured && !refused.load(ordering: .relaxed) }

    /// Called when the kernel refused a GSO write: no more of them in this process.
    static func noteRefusal() { refused.store(true, ordering: .relaxed) }

    /// For tests: GSO as configured again.
    static func reset() { refused.store(false, ordering: .relaxed) }

    /// The largest UDP payload that fits one packet on `interface` (its MTU less IPv6's and UDP's headers),
    /// or nil when the MTU cannot be read.
    static func largestSegment(onInterface interface: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/sys/class/net/\(interface)/mtu", encoding: .utf8),
              let mtu = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), mtu > 48 else { return nil }
        return mtu - 48
    }
}
