import NIOCore

/// When the controlling agent nominates, as a rule over the checklist and the time (pion's
/// `controllingSelector`): the best pair that succeeded, at once if no better pair can still succeed, else
/// after `nominationDelay` since the first success; a relayed pair waits `relayNominationDelay` for a direct
/// one still being checked (NetBird prefers direct paths).
struct ControllingSelector {
    var nominationDelay: TimeAmount
    var relayNominationDelay: TimeAmount

    /// The pair to nominate now, if any. `firstSuccessAt` is when the session's first check succeeded.
    func pairToNominate(in checklist: Checklist, firstSuccessAt: NIODeadline?, now: NIODeadline) -> Int? {
        guard let first = firstSuccessAt, let best = checklist.bestSucceeded else { return nil }
        let bestIsTop = checklist.pairs.first?.id == best.id
        guard bestIsTop || !checklist.hasPending() || now - first >= nominationDelay else { return nil }
        if best.isRelayed, checklist.hasPending(directOnly: true), now - first < relayNominationDelay { return nil }
        return best.id
    }
}
