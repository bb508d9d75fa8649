import NIOCore
import NIOPosix
import STUN

/// Tells how this host's NAT behaves (RFC 5780 §4.3 mapping, §4.4 filtering), which STUN and TURN servers
/// answer, and what that means for direct paths. It speaks STUN itself; no agent is needed.
///
/// With a server that supports RFC 5780 (OTHER-ADDRESS, CHANGE-REQUEST) both behaviours are tested; with
/// plain servers only whether the mapping varies by destination is, and the report says which tests could not
/// run. A server that does not support a test leaves that part "not tested", never a guess.
public struct NATCheck: Sendable {
    public struct STUN: Sendable {
        public var url: String
        public var address: TransportAddress
        public init(url: String, address: TransportAddress) {
            self.url = url
            self.address = address
        }
    }

    public var stunServers: [STUN]
    public var turnServers: [(url: String, server: ICE.TURNServer)]
    /// How long one test waits for its answer (with retransmissions meanwhile).
    public var timeout: Duration = .seconds(2)
    /// This host's own addresses: a mapped address among them means no NAT.
    public var localAddresses: Set<IPAddress> = []
    /// With `--lifetime`: the idle times to try, shortest first.
    public var lifetimeWaits: [Duration] = []

    public init(stunServers: [STUN], turnServers: [(url: String, server: ICE.TURNServer)] = []) {
        self.stunServers = stunServers
        self.turnServers = turnServers
    }

    public func run(group: EventLoopGroup) async -> NATCheckReport {
        var report = NATCheckReport()
        async let turn = checkTURN(group: group)
        var sockets: [Bool: STUNProbeSocket] = [:]
        for ipv6 in Set(stunServers.map(\.address.ip.isIPv6)) {
            sockets[ipv6] = try? await STUNProbeSocket.open(ipv6: ipv6, group: group).get()
        }
        // Test I against every server, in parallel, from one socket per family.
        let outcomes = await withTaskGroup(of: (Int, STUNProbeSocket.Outcome).self) { tasks in
            for (i, server) in stunServers.enumerated() {
                guard let socket = sockets[server.address.ip.isIPv6] else { continue }
                tasks.addTask { (i, (try? await socket.binding(to: server.address, timeout: timeout).get()) ?? .noAnswer(wrongSource: nil)) }
            }
            var all: [Int: STUNProbeSocket.Outcome] = [:]
            for await (i, outcome) in tasks { all[i] = outcome }
            return all
        }
        for (i, stun) in stunServers.enumerated() {
            var server = NATCheckReport.Server(url: stun.url, address: stun.address)
            switch outcomes[i] ?? .noAnswer(wrongSource: nil) {
            case .answered(let a):
                server.mapped = a.mapped
                server.roundTrip = a.roundTrip
                server.otherAddress = a.otherAddress
            case .error(let code, let reason):
                server.error = "error \(code) \(reason)"
            case .noAnswer(let wrong?):
                server.error = "answered from \(wrong) instead of \(stun.address); ignored"
            case .noAnswer(nil):
                server.error = sockets[stun.address.ip.isIPv6] == nil ? "no \(stun.address.ip.isIPv6 ? "IPv6" : "IPv4") socket" : "no answer"
            }
            report.servers.append(server)
        }
        let answered = report.servers.filter { $0.mapped != nil }
        report.udp = !answered.isEmpty
        let v4 = answered.filter { $0.address.ip.isIPv4 }
        report.publicIPv4 = v4.first?.mapped?.ip
        report.publicIPv6 = answered.first { $0.address.ip.isIPv6 }?.mapped?.ip
        if let first = v4.first, let mapped = first.mapped {
            report.behindNAT = !localAddresses.contains(mapped.ip)
            report.portPreserved = sockets[false]?.localPort.map { Int(mapped.port) == $0 }
        }
        if Set(v4.map(\.address)).count >= 2 {
            report.mappingVariesByDestination = Set(v4.compactMap(\.mapped)).count > 1
        }

        if let socket = sockets[false], let primary = v4.first(where: { s in
            s.otherAddress.map { $0.ip != s.address.ip && $0.port != s.address.port && $0.ip.isIPv4 } ?? false
        }) {
            report.rfc5780Server = primary.url
            await testMapping(primary, socket: socket, into: &report)
            await testFiltering(primary, group: group, into: &report)
        } else if report.udp {
            let why = v4.isEmpty ? "no IPv4 STUN server answered" : "no server gave OTHER-ADDRESS (RFC 5780 support)"
            report.notTested.append("mapping: \(why)" + (report.mappingVariesByDestination == nil ? "" : "; compared two servers instead"))
            report.notTested.append("filtering: \(why)")
        }
        if report.udp, !lifetimeWaits.isEmpty {
            if let server = v4.first(where: { $0.otherAddress != nil }) {
                await testLifetime(server.address, group: group, into: &report)
            } else {
                report.notTested.append("lifetime: needs a server with RFC 5780 support (RESPONSE-PORT)")
            }
        }
        for socket in sockets.values { try? await socket.close().get() }
        report.turnServers = await turn
        return report
    }

    // MARK: RFC 5780 §4.3, mapping

    private func testMapping(_ server: NATCheckReport.Server, socket: STUNProbeSocket, into report: inout NATCheckReport) async {
        guard let other = server.otherAddress, let first = server.mapped else { return }
        let alternateIP = TransportAddress(ip: other.ip, port: server.address.port)
        guard let second = await answer(socket, alternateIP) else {
            report.notTested.append("mapping: the server's alternate address \(alternateIP) did not answer")
            return
        }
        if second.mapped == first {
            report.mapping = .endpointIndependent
            return
        }
        guard let third = await answer(socket, other) else {
            report.notTested.append("mapping: the server's alternate address and port \(other) did not answer")
            return
        }
        report.mapping = third.mapped == second.mapped ? .addressDependent : .addressAndPortDependent
    }

    // MARK: RFC 5780 §4.4, filtering

    private func testFiltering(_ server: NATCheckReport.Server, group: EventLoopGroup, into report: inout NATCheckReport) async {
        guard let other = server.otherAddress, let socket = try? await STUNProbeSocket.open(ipv6: false, group: group).get() else { return }
        defer { _ = socket.close() }
        // A fresh mapping that has sent to the primary address only.
        guard await answer(socket, server.address) != nil else {
            report.notTested.append("filtering: \(server.url) stopped answering")
            return
        }
        let both = (try? await socket.binding(to: server.address, change: (true, true), expectedFrom: other, timeout: timeout).get())
            ?? .noAnswer(wrongSource: nil)
        switch both {
        case .answered:
            report.filtering = .endpointIndependent
            return
        case .error(let code, let reason):
            report.notTested.append("filtering: \(server.url) refused CHANGE-REQUEST (\(code) \(reason))")
            return
        case .noAnswer(let wrong?):
            report.notTested.append("filtering: \(server.url) answered from \(wrong) instead of \(other); it ignores CHANGE-REQUEST")
            return
        case .noAnswer(nil):
            break
        }
        let portOnly = TransportAddress(ip: server.address.ip, port: other.port)
        let port = (try? await socket.binding(to: server.address, change: (false, true), expectedFrom: portOnly, timeout: timeout).get())
            ?? .noAnswer(wrongSource: nil)
        switch port {
        case .answered: report.filtering = .addressDependent
        case .noAnswer(nil): report.filtering = .addressAndPortDependent
        case .noAnswer(let wrong?):
            report.notTested.append("filtering: \(server.url) answered from \(wrong) instead of \(portOnly)")
        case .error(let code, let reason):
            report.notTested.append("filtering: \(server.url) refused CHANGE-REQUEST (\(code) \(reason))")
        }
    }

    private func answer(_ socket: STUNProbeSocket, _ to: TransportAddress) async -> STUNProbeSocket.Answer? {
        (try? await socket.binding(to: to, timeout: timeout).get())?.answer
    }

    // MARK: Mapping lifetime (RFC 5780 §4.6)

    /// For each wait: socket X makes a mapping with the server, stays silent for the wait, then socket Y asks the
    /// server (RESPONSE-PORT) to answer to X's mapped port. X hears it only while its mapping lives, and Y
    /// sending does not refresh X's mapping as a request from X would.
    private func testLifetime(_ server: TransportAddress, group: EventLoopGroup, into report: inout NATCheckReport) async {
        var result = NATCheckReport.Lifetime()
        for wait in lifetimeWaits {
            guard let x = try? await STUNProbeSocket.open(ipv6: server.ip.isIPv6, group: group).get(),
                  let y = try? await STUNProbeSocket.open(ipv6: server.ip.isIPv6, group: group).get() else { break }
            defer { _ = x.close(); _ = y.close() }
            guard let mapping = await answer(x, server) else {
                report.notTested.append("lifetime: \(server) stopped answering")
                return
            }
            try? await Task.sleep(for: wait)
            let (here, there) = x.answer(toRequestFrom: y, to: server, responsePort: mapping.mapped.port, timeout: timeout)
            let heard = (try? await here.get())?.answer != nil
            if case .error(let code, let reason)? = try? await there.get() {
                report.notTested.append("lifetime: \(server) refused RESPONSE-PORT (\(code) \(reason))")
                return
            }
            if heard {
                result.atLeast = wait
            } else {
                result.lessThan = wait
                break
            }
        }
        report.lifetime = result
    }

    // MARK: TURN

    private func checkTURN(group: EventLoopGroup) async -> [NATCheckReport.TURNServer] {
        await withTaskGroup(of: (Int, NATCheckReport.TURNServer).self) { tasks in
            for (i, entry) in turnServers.enumerated() {
                tasks.addTask { (i, await checkOne(entry.url, entry.server, group: group)) }
            }
            var all: [(Int, NATCheckReport.TURNServer)] = []
            for await r in tasks { all.append(r) }
            return all.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func checkOne(_ url: String, _ server: ICE.TURNServer, group: EventLoopGroup) async -> NATCheckReport.TURNServer {
        var result = NATCheckReport.TURNServer(url: url, transport: server.transport.rawValue)
        if !server.transport.isStream, let socket = try? await STUNProbeSocket.open(ipv6: server.address.ip.isIPv6, group: group).get() {
            let outcome = try? await socket.binding(to: server.address, timeout: timeout).get()
            if let a = outcome?.answer {
                result.reachable = true
                result.roundTrip = a.roundTrip
            }
            _ = try? await socket.close().get()
        }
        let client = TURNClient(server: server, eventLoop: group.next(), onData: { _, _ in })
        let start = ContinuousClock.now
        do {
            let allocation = try await client.allocate(localAddress: IPAddress(server.address.ip.isIPv6 ? "::" : "0.0.0.0")!).get()
            result.allocationTime = ContinuousClock.now - start
            result.reachable = true
            result.credentialsAccepted = true
            result.allocated = true
            result.relayedAddress = allocation.relayed
            do {
                try await client.release().get()
                result.released = true
            } catch {
                result.error = "allocation not released: \(error)"
            }
        } catch let error as TURNError {
            switch error {
            case .unauthorized:
                result.reachable = true
                result.credentialsAccepted = false
            case .rejected:
                result.reachable = true
            case .timedOut, .notAllocated, .malformedResponse, .connectionFailed:
                break
            }
            result.error = "\(error)"
        } catch {
            result.error = "\(error)"
        }
        _ = try? await client.close().get()
        return result
    }
}
