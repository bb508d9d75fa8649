/// When the controlled agent selects (pion's `controlledSelector`, RFC 8445 §7.3.1.5 and §8.1.1): a pair
/// the controlling agent nominated with USE-CANDIDATE, once a check of ours on it has succeeded, in
/// whichever order the two happen.
enum ControlledSelector {
    /// Whether `pair` should now be selected.
    static func selects(_ pair: CandidatePair) -> Bool {
        pair.remoteNominated && pair.state == .succeeded
    }
}
