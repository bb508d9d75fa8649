import NIOCore
import StatusRecorder
import STUN
import ICE
import Signal

/// Relay fallback: why a peer is relayed, from its relay and both sides' NAT verdicts. The state machine
/// decides when to retry the direct path.
extension PeerConnection {
    // MARK: Relay fallback

    /// Why the peer is relayed, again: UDP to the TURN server may have failed since it was said. Only a
    /// stream relay's reason names UDP; the state machine rewords it while a direct retry is pending.
    func rewordRelayedReason() {
        guard selectedRelay?.transport.isStream == true else { return }
        apply(.relayedReasonChanged(natNeedsRelay ?? directTimedOut))
    }

    /// The direct checks timed out, with how the path is relayed: over UDP plainly, over a stream relay with why.
    var directTimedOut: PeerReason {
        guard let relay = selectedRelay, relay.transport.isStream else { return .directTimedOut(relayTransport: nil, udpFailed: false) }
        return .directTimedOut(relayTransport: relay.transport.label, udpFailed: udpRelayFailed)
    }

    /// The verdict worth telling the remote: a known one.
    var sharedNAT: NATVerdict? {
        let verdict = localNAT()
        return verdict == .unknown ? nil : verdict
    }

    /// Why no direct path can work, from both sides' NAT verdicts; nil when they allow one or are not known.
    var natNeedsRelay: PeerReason? {
        guard let local = localNAT(), let remote = remoteNAT, NATVerdict.directPathImpossible(local, remote) else { return nil }
        return .natNeedsRelay(remoteVerdict: remote.rawValue, localVerdict: local.rawValue)
    }
}
