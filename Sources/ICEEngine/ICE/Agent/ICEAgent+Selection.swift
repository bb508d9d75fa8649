import NIOCore
import NIOPosix
import STUN

/// Selection and consent (RFC 7675).
extension ICEAgent {
    // MARK: Selection and consent (RFC 7675)

    func select(_ pairID: Int) {
        guard let p = pair(pairID), state != .failed else { return }
        selectedPairID = pairID
        updatePair(pairID) { $0.nominated = true }
        lastConsentResponseAt = .now()
        checklist.clearTriggered()
        if let relay = endpoint(p.endpoint)?.relay {
            // The chosen relayed path uses a channel: 4 bytes of overhead instead of a Send indication's 36.
            _ = relay.bindChannel(peer: p.remote.address)
        }
        onEvent(selectedPairEvent(p))
        setState(.connected)
        // Report the round trip the pair's last check measured; without one (its checks were retransmitted),
        // measure it now with a consent check rather than at the first scheduled one.
        if let rtt = self.pair(pairID)?.lastRoundTrip {
            onEvent(.roundTrip(rtt))
        } else {
            sendCheck(pairID: pairID, useCandidate: false, isConsent: true)
        }
        scheduleConsent()
    }

    func scheduleConsent() {
        consentTimer?.cancel()
        let mean = Double(configuration.consentInterval.nanoseconds)
        let jittered = Int64(mean * Double.random(in: 0.8...1.2, using: &rng))
        consentTimer = eventLoop.scheduleTask(in: .nanoseconds(jittered)) { [self] in
            guard let id = self.selectedPairID, self.state == .connected || self.state == .disconnected else { return }
            self.sendCheck(pairID: id, useCandidate: false, isConsent: true)
            self.scheduleConsent()
        }
    }

    func setState(_ new: ICEConnectionState) {
        guard state != new, state != .closed else { return }
        state = new
        if new == .failed || new == .closed {
            pacer?.cancel()
            if new == .failed { consentTimer?.cancel() }
        }
        onEvent(.stateChanged(new))
    }
}
