/// The fields of each record kind that a stream declares (`F` lines) and then writes in that order.
///
/// To add a field, add an entry to its kind's table: writers declare and write it, readers of this build read
/// it, older readers skip it by name, and streams of older agents, which do not declare it, leave it absent.
/// Names are never reused for another meaning.
enum StatusWireSchema {
    static let local: [WireField<LocalAgentStatus>] = [
        .text("public-key", { $0.publicKey }, { $0.publicKey = $1 }),
        .text("name", { $0.name }, { $0.name = $1 }),
        .number("started-at", { $0.startedAtMillis }, { $0.startedAtMillis = $1 }),
        .flag("lazy", { $0.lazyConnections }, { $0.lazyConnections = $1 }),
        .optionalText("config-error", { $0.configError }, { $0.configError = $1 }),
    ]

    static let server: [WireField<ServerStatus>] = [
        WireField("kind", write: { $0.kind.rawValue }, read: { server, value in
            guard let kind = ServerStatus.Kind(rawValue: value.string) else { return false }
            server.kind = kind
            return true
        }),
        .text("address", { $0.address }, { $0.address = $1 }),
        .flag("available", { $0.available }, { $0.available = $1 }),
        .optionalText("error", { $0.error }, { $0.error = $1 }),
    ]

    static let nat: [WireField<NATStatus>] = [
        .text("verdict", { $0.verdict }, { $0.verdict = $1 }),
        .text("mapping", { $0.mapping }, { $0.mapping = $1 }),
        .text("filtering", { $0.filtering }, { $0.filtering = $1 }),
        .optionalText("public-ipv4", { $0.publicIPv4 }, { $0.publicIPv4 = $1 }),
        .optionalText("public-ipv6", { $0.publicIPv6 }, { $0.publicIPv6 = $1 }),
        .requiredNumber("checked-at", { $0.checkedAtMillis }, { $0.checkedAtMillis = $1 }),
    ]

    static let peer: [WireField<PeerStatus>] = [
        .text("id", { $0.id }, { $0.id = $1 }),
        .text("name", { $0.name }, { $0.name = $1 }),
        WireField("state", write: { $0.state.rawValue }, read: { peer, value in
            guard let state = PeerConnectionState(rawValue: value.string) else { return false }
            peer.state = state
            return true
        }),
        .requiredNumber("state-changed-at", { $0.stateChangedAtMillis }, { $0.stateChangedAtMillis = $1 }),
        // A type this build does not know reads as none: the peer still shows, with its state.
        .text("connection-type", { $0.connectionType?.rawValue ?? "" }, { $0.connectionType = ConnectionType(rawValue: $1) }),
        .text("local-type", { $0.localCandidate?.type ?? "" }, { p, v in p.localCandidate = endpoint(type: v, p.localCandidate) }),
        .text("local-address", { $0.localCandidate?.address ?? "" }, { p, v in p.localCandidate = endpoint(address: v, p.localCandidate) }),
        .text("remote-type", { $0.remoteCandidate?.type ?? "" }, { p, v in p.remoteCandidate = endpoint(type: v, p.remoteCandidate) }),
        .text("remote-address", { $0.remoteCandidate?.address ?? "" }, { p, v in p.remoteCandidate = endpoint(address: v, p.remoteCandidate) }),
        .optionalText("relay", { $0.relayServer }, { $0.relayServer = $1 }),
        .optionalNumber("latency-ns", { $0.latencyNanos }, { $0.latencyNanos = $1 }),
        .number("bytes-received", { $0.bytesReceived }, { $0.bytesReceived = $1 }),
        .number("bytes-sent", { $0.bytesSent }, { $0.bytesSent = $1 }),
        .optionalNumber("last-activity", { $0.lastActivityMillis }, { $0.lastActivityMillis = $1 }),
        // Reason words: an agent before typed reasons wrote them here, and so does this build for a reason kept
        // as words; otherwise the reason follows as an `R` line, which replaces them.
        .text("reason-words", { unrecognizedWords($0.reason) }, { p, v in if !v.isEmpty { p.reason = .unrecognized(code: v) } }),
        .optionalNumber("next-retry-at", { $0.nextRetryAtMillis }, { $0.nextRetryAtMillis = $1 }),
        .optionalNumber("smoothed-latency-ns", { $0.smoothedLatencyNanos }, { $0.smoothedLatencyNanos = $1 }),
        .number("ignored-candidates", { $0.ignoredCandidateCount }, { $0.ignoredCandidateCount = $1 }),
        .text("ignored-candidate-list", { $0.ignoredCandidates.joined(separator: ",") },
              { p, v in p.ignoredCandidates = v.isEmpty ? [] : v.split(separator: ",").map(String.init) }),
        .optionalText("relay-transport", { $0.relayTransport }, { $0.relayTransport = $1 }),
    ]

    /// A peer's counters (`U` lines): the names, and meanings, of the peer's own fields.
    static let counters: [WireField<PeerCounters>] = [
        .text("id", { $0.id }, { $0.id = $1 }),
        .optionalNumber("latency-ns", { $0.latencyNanos }, { $0.latencyNanos = $1 }),
        .optionalNumber("smoothed-latency-ns", { $0.smoothedLatencyNanos }, { $0.smoothedLatencyNanos = $1 }),
        .number("bytes-received", { $0.bytesReceived }, { $0.bytesReceived = $1 }),
        .number("bytes-sent", { $0.bytesSent }, { $0.bytesSent = $1 }),
        .optionalNumber("last-activity", { $0.lastActivityMillis }, { $0.lastActivityMillis = $1 }),
    ]

    static let pair: [WireField<CandidatePairStatus>] = [
        .text("local-type", { $0.local.type }, { $0.local.type = $1 }),
        .text("local-address", { $0.local.address }, { $0.local.address = $1 }),
        .text("remote-type", { $0.remote.type }, { $0.remote.type = $1 }),
        .text("remote-address", { $0.remote.address }, { $0.remote.address = $1 }),
        .text("state", { $0.state }, { $0.state = $1 }),
        .flag("nominated", { $0.nominated }, { $0.nominated = $1 }),
        .optionalNumber("rtt-ns", { $0.roundTripNanos }, { $0.roundTripNanos = $1 }),
        .requiredNumber("requests-sent", { $0.requestsSent }, { $0.requestsSent = $1 }),
        .requiredNumber("responses-received", { $0.responsesReceived }, { $0.responsesReceived = $1 }),
    ]

    /// An event's leading fields; its kind's code and facts follow them (``eventTail``), as many as the kind has.
    static let event: [WireField<StatusEvent>] = [
        .requiredNumber("sequence", { $0.sequence }, { $0.sequence = $1 }),
        .requiredNumber("at", { $0.atMillis }, { $0.atMillis = $1 }),
        .optionalText("peer-id", { $0.peerID }, { $0.peerID = $1 }),
        .optionalText("peer-name", { $0.peerName }, { $0.peerName = $1 }),
    ]

    /// The name an `F G` line gives the event's kind and facts, always declared last.
    static let eventTail = "kind…"

    /// The layouts of version 1, which declared nothing: its lines held these fields in this order.
    enum Version1 {
        static let local = ["public-key", "name", "started-at", "lazy", "config-error"]
        static let server = ["kind", "address", "available", "error"]
        static let nat = ["verdict", "mapping", "filtering", "public-ipv4", "public-ipv6", "checked-at"]
        static let peer = ["id", "name", "state", "state-changed-at", "connection-type", "local-type", "local-address",
                           "remote-type", "remote-address", "relay", "latency-ns", "bytes-received", "bytes-sent",
                           "last-activity", "reason-words", "next-retry-at", "smoothed-latency-ns", "ignored-candidates",
                           "ignored-candidate-list", "relay-transport"]
        static let pair = ["local-type", "local-address", "remote-type", "remote-address", "state", "nominated", "rtt-ns",
                           "requests-sent", "responses-received"]
        static let event = ["sequence", "at", "peer-id", "peer-name", eventTail]
        /// The fewest fields a version 1 line of each kind had (what it checked), the kind's letter not counted.
        static let minimumFields: [UInt8: Int] = [
            UInt8(ascii: "L"): 4, UInt8(ascii: "S"): 4, UInt8(ascii: "N"): 6, UInt8(ascii: "P"): 15,
            UInt8(ascii: "C"): 9, UInt8(ascii: "G"): 5,
        ]
    }

    private static func endpoint(type: String, _ old: CandidateEndpoint?) -> CandidateEndpoint? {
        type.isEmpty ? old : CandidateEndpoint(type: type, address: old?.address ?? "")
    }

    private static func endpoint(address: String, _ old: CandidateEndpoint?) -> CandidateEndpoint? {
        address.isEmpty ? old : CandidateEndpoint(type: old?.type ?? "", address: address)
    }

    /// A reason this build does not know goes back where a reader keeps such words: the `reason-words` field,
    /// which reads as ``PeerReason/unrecognized(code:)`` again, rather than an `R` line whose code may be a known
    /// one without its facts.
    static func unrecognizedWords(_ reason: PeerReason?) -> String {
        if case .unrecognized(let code) = reason { return code }
        return ""
    }
}
