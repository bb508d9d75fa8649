import ICEEngine

/// The words and the JSON of `icestat netcheck`.
enum NetcheckReport {
    typealias Value = StructuredReport.Value

    /// "full cone", "symmetric", "UDP blocked": the verdict as people say it.
    static func name(_ verdict: NATVerdict) -> String {
        switch verdict {
        case .fullCone: "full cone"
        case .restrictedCone: "restricted cone"
        case .portRestrictedCone: "port-restricted cone"
        case .symmetric: "symmetric"
        case .udpBlocked: "UDP blocked"
        case .unknown: "unknown"
        }
    }

    /// The one-line verdict: the usual name, the RFC 5780 terms, what it means for direct connections.
    static func verdictLine(_ r: NATCheckReport) -> String {
        let v = r.verdict
        var terms: [String] = []
        if r.mapping != .notTested { terms.append("\(r.mapping.rawValue) mapping") }
        if r.filtering != .notTested { terms.append("\(r.filtering.rawValue) filtering") }
        if r.mapping == .notTested, r.mappingVariesByDestination == true { terms.append("mapping varies by destination") }
        let noNAT = r.behindNAT == false ? "no NAT (this host's own address), " : ""
        return "\(name(v))" + (terms.isEmpty ? "" : " (\(noNAT)\(terms.joined(separator: ", ")))") + ": \(v.meaning)"
    }

    static func text(_ r: NATCheckReport) -> String {
        var lines: [String] = []
        lines.append("UDP: \(r.udp ? "yes" : "no answer from any STUN server")")
        if !r.servers.isEmpty { lines.append("STUN servers:") }
        for s in r.servers {
            if let mapped = s.mapped {
                var line = "  \(s.url): mapped \(mapped), round trip \(ms(s.roundTrip))"
                line += s.otherAddress.map { ", RFC 5780 (other address \($0))" } ?? ", no RFC 5780"
                lines.append(line)
            } else {
                lines.append("  \(s.url): \(s.error ?? "no answer")")
            }
        }
        lines.append("Public IPv4: \(r.publicIPv4?.description ?? "-")")
        lines.append("Public IPv6: \(r.publicIPv6?.description ?? "-")")
        lines.append("Behind a NAT: \(r.behindNAT.map { $0 ? "yes" : "no" } ?? "-")")
        lines.append("Mapping: \(r.mapping.rawValue)")
        lines.append("Filtering: \(r.filtering.rawValue)")
        lines.append("Mapping varies by destination: \(r.mappingVariesByDestination.map { $0 ? "yes" : "no" } ?? "not tested (needs two servers)")")
        lines.append("Port preserved: \(r.portPreserved.map { $0 ? "yes" : "no" } ?? "-")")
        if let l = r.lifetime {
            lines.append("Mapping lifetime: " + lifetimeText(l))
        }
        for note in r.notTested { lines.append("Not tested: \(note)") }
        if !r.turnServers.isEmpty { lines.append("TURN servers:") }
        for t in r.turnServers {
            var parts: [String] = [t.reachable ? "reachable" : "unreachable"]
            if let ok = t.credentialsAccepted { parts.append(ok ? "credentials accepted" : "credentials refused") }
            if t.allocated { parts.append("allocation \(t.relayedAddress.map { "\($0) " } ?? "")made" + (t.released ? " and released" : "")) }
            if t.roundTrip != nil { parts.append("round trip \(ms(t.roundTrip))") }
            if t.allocationTime != nil { parts.append("allocation took \(ms(t.allocationTime))") }
            if let e = t.error { parts.append(e) }
            lines.append("  \(t.url) (\(t.transport)): " + parts.joined(separator: ", "))
        }
        lines.append("Verdict: \(verdictLine(r))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ r: NATCheckReport) -> [UInt8] {
        func str(_ s: String?) -> Value { s.map(Value.string) ?? .null }
        func bool(_ b: Bool?) -> Value { b.map(Value.bool) ?? .null }
        func millis(_ d: Duration?) -> Value { d.map { .number(StatusFormatting.millis($0.nanoseconds)) } ?? .null }
        let stun: [Value] = r.servers.map { s in
            .object([("url", .string(s.url)), ("address", .string(s.address.description)), ("answered", .bool(s.mapped != nil)),
                     ("mapped", str(s.mapped?.description)), ("rttMs", millis(s.roundTrip)), ("rfc5780", .bool(s.otherAddress != nil)),
                     ("otherAddress", str(s.otherAddress?.description)), ("error", str(s.error))])
        }
        let turn: [Value] = r.turnServers.map { t in
            .object([("url", .string(t.url)), ("transport", .string(t.transport)), ("reachable", .bool(t.reachable)),
                     ("credentialsAccepted", bool(t.credentialsAccepted)), ("allocated", .bool(t.allocated)),
                     ("released", .bool(t.released)), ("relayedAddress", str(t.relayedAddress?.description)),
                     ("rttMs", millis(t.roundTrip)), ("allocationMs", millis(t.allocationTime)), ("error", str(t.error))])
        }
        let lifetime: Value = r.lifetime.map { l in
            .object([("atLeastSeconds", l.atLeast.map { .number(seconds($0)) } ?? .null),
                     ("lessThanSeconds", l.lessThan.map { .number(seconds($0)) } ?? .null)])
        } ?? .null
        return StructuredReport.json(.object([
            ("udp", .bool(r.udp)),
            ("publicIPv4", str(r.publicIPv4?.description)),
            ("publicIPv6", str(r.publicIPv6?.description)),
            ("behindNAT", bool(r.behindNAT)),
            ("mapping", .string(r.mapping.rawValue)),
            ("filtering", .string(r.filtering.rawValue)),
            ("mappingVariesByDestination", bool(r.mappingVariesByDestination)),
            ("portPreserved", bool(r.portPreserved)),
            ("verdict", .string(r.verdict.rawValue)),
            ("verdictText", .string(verdictLine(r))),
            ("rfc5780Server", str(r.rfc5780Server)),
            ("lifetime", lifetime),
            ("notTested", .array(r.notTested.map(Value.string))),
            ("stun", .array(stun)),
            ("turn", .array(turn)),
        ]))
    }

    static func lifetimeText(_ l: NATCheckReport.Lifetime) -> String {
        switch (l.atLeast, l.lessThan) {
        case (let a?, let b?): "between \(seconds(a)) s and \(seconds(b)) s"
        case (let a?, nil): "at least \(seconds(a)) s"
        case (nil, let b?): "under \(seconds(b)) s"
        case (nil, nil): "not measured"
        }
    }

    /// Whole seconds as an integer, else with the decimals needed (0.5, 1.25).
    static func seconds(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms % 1000 == 0 ? String(ms / 1000) : String(Double(ms) / 1000)
    }

    private static func ms(_ d: Duration?) -> String {
        d.map { StatusFormatting.millis($0.nanoseconds) + " ms" } ?? "-"
    }
}
