import Foundation
import ICEEngine
import NIOCore
import Yams

/// Reads and checks an agent config file. Every problem is reported with the field it concerns.
package enum AgentConfigLoader {
    struct Problem: Error, CustomStringConvertible {
        var description: String
        init(_ field: String, _ problem: String) { description = "\(field): \(problem)" }
    }

    /// What `icestat up` runs with.
    struct Loaded {
        var mesh: MeshConfiguration
        var statusSocket: String?
        /// Where `/metrics` is served, if anywhere.
        var metricsListen: (host: String, port: Int)?
        var metricsPerPeer = false
        var warnings: [String]
        /// The file as written, to tell which fields a reload changed.
        var file: AgentConfigFile
    }

    static func load(path: String) throws -> Loaded {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Problem(path, "cannot read the file")
        }
        let file: AgentConfigFile
        do {
            file = try YAMLDecoder().decode(AgentConfigFile.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw Problem(fieldPath(context.codingPath + [key]), "missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw Problem(fieldPath(context.codingPath), "expected \(typeName(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw Problem(fieldPath(context.codingPath), "expected \(typeName(type)), found nothing")
        } catch let DecodingError.dataCorrupted(context) {
            throw Problem(context.codingPath.isEmpty ? path : fieldPath(context.codingPath), context.debugDescription)
        } catch {
            throw Problem(path, "not valid YAML: \(error)")
        }
        return try check(file, baseDirectory: (path as NSString).deletingLastPathComponent)
    }

    static func check(_ file: AgentConfigFile, baseDirectory: String) throws -> Loaded {
        var warnings: [String] = []
        let keyPath = file.key_file.hasPrefix("/") ? file.key_file : (baseDirectory as NSString).appendingPathComponent(file.key_file)
        guard let keyText = FileManager.default.contents(atPath: keyPath).flatMap({ String(data: $0, encoding: .utf8) }) else {
            throw Problem("key_file", "cannot read \(keyPath) (create one with `icestat keygen \(file.key_file)`)")
        }
        guard let key = PeerKey(privateKeyBase64: keyText) else {
            throw Problem("key_file", "\(keyPath) does not hold a base64 32-byte private key")
        }
        if let mode = (try? FileManager.default.attributesOfItem(atPath: keyPath))?[.posixPermissions] as? Int, mode & 0o077 != 0 {
            warnings.append("key_file: \(keyPath) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        guard !file.signal.addresses.isEmpty else { throw Problem("signal", "expected HOST:PORT or a list of them, got an empty list") }
        var signalServers: [(host: String, port: Int)] = []
        for (i, address) in file.signal.addresses.enumerated() {
            guard let server = hostPort(address) else {
                throw Problem(file.signal.addresses.count == 1 ? "signal" : "signal[\(i)]", "expected HOST:PORT, got '\(address)'")
            }
            signalServers.append(server)
        }
        let (signalHost, signalPort) = signalServers[0]

        var ice = ICEAgentConfiguration()
        for (i, url) in (file.stun ?? []).enumerated() {
            do { ice.stunServers.append(try STUNServerURL.resolve(url)) }
            catch { throw Problem("stun[\(i)]", "\(error)") }
        }
        for (i, turn) in (file.turn ?? []).enumerated() {
            let parsed: (address: TransportAddress, host: String, transport: TURNTransport)
            do { parsed = try TURNServerURL.parse(turn.url) } catch { throw Problem("turn[\(i)].url", "\(error)") }
            var caFile: String?
            if let ca = turn.ca_file {
                guard parsed.transport == .tls else { throw Problem("turn[\(i)].ca_file", "only a turns: server uses TLS") }
                let path = ca.hasPrefix("/") ? ca : (baseDirectory as NSString).appendingPathComponent(ca)
                guard FileManager.default.isReadableFile(atPath: path) else { throw Problem("turn[\(i)].ca_file", "cannot read \(path)") }
                caFile = path
            }
            ice.turnServers.append(TURNServer(address: parsed.address, username: turn.username, password: turn.password,
                                              transport: parsed.transport, host: parsed.host, caFile: caFile))
        }
        if let c = file.ice {
            func duration(_ field: String, _ value: String?, into target: inout Duration) throws {
                guard let value else { return }
                guard let d = parseDuration(value), d > .zero else { throw Problem("ice.\(field)", "expected a duration like 50ms, 6s or 2m, got '\(value)'") }
                target = d
            }
            try duration("check_interval", c.check_interval, into: &ice.checkInterval)
            try duration("consent_interval", c.consent_interval, into: &ice.consentInterval)
            try duration("disconnected_timeout", c.disconnected_timeout, into: &ice.disconnectedTimeout)
            try duration("failed_timeout", c.failed_timeout, into: &ice.failedTimeout)
            try duration("checking_timeout", c.checking_timeout, into: &ice.checkingTimeout)
            try duration("gathering_timeout", c.gathering_timeout, into: &ice.gatheringTimeout)
            try duration("relay_nomination_delay", c.relay_nomination_delay, into: &ice.relayNominationDelay)
            if ice.failedTimeout <= ice.disconnectedTimeout {
                throw Problem("ice.failed_timeout", "must be longer than ice.disconnected_timeout")
            }
            ice.relayOnly = c.relay_only ?? false
            if ice.relayOnly, ice.turnServers.isEmpty { throw Problem("ice.relay_only", "needs at least one turn server") }
            var filter = HostCandidateFilter.default
            if let names = c.interfaces { filter.interfaces = Set(names) }
            if let prefixes = c.exclude_interface_prefixes { filter.excludedInterfacePrefixes = prefixes }
            if let addresses = c.addresses {
                var set = Set<IPAddress>()
                for (i, text) in addresses.enumerated() {
                    guard let ip = IPAddress(text) else { throw Problem("ice.addresses[\(i)]", "'\(text)' is not an IP address") }
                    set.insert(ip)
                }
                filter.addresses = set
                if set.contains(where: \.isLoopback) { filter.includeLoopback = true }
            }
            if let loopback = c.include_loopback { filter.includeLoopback = loopback }
            if let v6 = c.ipv6 { filter.includeIPv6 = v6 }
            ice.hostFilter = filter
        }
        if let text = file.socket_buffer {
            guard let bytes = parseByteSize(text), bytes == 0 || (64 << 10 ... 256 << 20).contains(bytes) else {
                throw Problem("socket_buffer", "expected 0 (the system's default) or a size from 64KiB to 256MiB like 2MiB, got '\(text)'")
            }
            ice.socketBufferBytes = bytes
        }
        var icePort: Int?
        if let port = file.ice?.port {
            guard (1...65535).contains(port) else { throw Problem("ice.port", "must be 1-65535") }
            icePort = port
        }
        for (i, text) in (file.routed_networks ?? []).enumerated() {
            guard let network = IPNetwork(text) else {
                throw Problem("routed_networks[\(i)]", "expected a network like 10.100.0.0/16 or fd00::/8, got '\(text)'")
            }
            if network.isDefaultRoute {
                warnings.append("routed_networks[\(i)]: \(text) is a default route; it is never used to ignore candidates")
                continue
            }
            ice.routedNetworks.append(network)
        }

        var threshold: Duration = .seconds(15 * 60)
        if let text = file.inactivity_threshold {
            guard let d = parseDuration(text), d > .zero else {
                throw Problem("inactivity_threshold", "expected a duration like 15m, got '\(text)'")
            }
            if d < .seconds(60) { warnings.append("inactivity_threshold: \(text) is under NetBird's minimum of 1m (fine for tests)") }
            threshold = d
        }
        let listen = file.listen ?? "127.0.0.1"
        guard IPAddress(listen) != nil else { throw Problem("listen", "'\(listen)' is not an IP address") }

        var peers: [MeshPeerConfiguration] = []
        var seenKeys = Set<String>(), seenPorts = Set<Int>()
        for (i, peer) in file.peers.enumerated() {
            let field = "peers[\(i)]"
            guard PeerKey.bytes(base64: peer.public_key) != nil else {
                throw Problem("\(field).public_key", "not a base64 32-byte key")
            }
            guard peer.public_key != key.publicKeyBase64 else { throw Problem("\(field).public_key", "is this agent's own key") }
            guard seenKeys.insert(peer.public_key).inserted else { throw Problem("\(field).public_key", "listed twice") }
            guard (1...65535).contains(peer.local_port) else { throw Problem("\(field).local_port", "must be 1-65535") }
            guard seenPorts.insert(peer.local_port).inserted else { throw Problem("\(field).local_port", "\(peer.local_port) is used twice") }
            if peer.local_port == icePort { throw Problem("\(field).local_port", "\(peer.local_port) is also ice.port") }
            var service: SocketAddress?
            if let text = peer.service {
                guard let (host, port) = hostPort(text), let address = try? SocketAddress(ipAddress: host, port: port) else {
                    throw Problem("\(field).service", "expected IP:PORT, got '\(text)'")
                }
                service = address
            }
            peers.append(MeshPeerConfiguration(name: peer.name, publicKey: peer.public_key, localPort: peer.local_port, service: service))
        }
        var networkCheck: Duration = .seconds(5)
        if let text = file.network_check_interval {
            guard let d = parseDuration(text), d >= .milliseconds(100) else {
                throw Problem("network_check_interval", "expected a duration of at least 100ms, like 5s, got '\(text)'")
            }
            networkCheck = d
        }
        var mesh = MeshConfiguration(key: key, name: file.name ?? ProcessInfo.processInfo.hostName, signalHost: signalHost,
                                     signalPort: signalPort, ice: ice, lazy: file.lazy ?? true,
                                     inactivityThreshold: threshold, listenHost: listen, peers: peers)
        mesh.signalServers = signalServers
        mesh.networkCheckInterval = networkCheck
        mesh.icePort = icePort
        var metricsListen: (host: String, port: Int)?
        if let text = file.metrics_listen {
            guard let (host, port) = hostPort(text), (try? SocketAddress(ipAddress: host, port: port)) != nil else {
                throw Problem("metrics_listen", "expected IP:PORT, like 127.0.0.1:9469, got '\(text)'")
            }
            metricsListen = (host, port)
        }
        if file.metrics_per_peer == true, metricsListen == nil { warnings.append("metrics_per_peer: ignored without metrics_listen") }
        return Loaded(mesh: mesh, statusSocket: file.status_socket, metricsListen: metricsListen,
                      metricsPerPeer: file.metrics_per_peer ?? false, warnings: warnings, file: file)
    }

    /// `HOST:PORT` or `[V6]:PORT`.
    static func hostPort(_ text: String) -> (String, Int)? {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            guard text[text.index(after: close)...].hasPrefix(":") else { return nil }
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    /// `250ms`, `6s`, `15m`, `1h`, or a bare number of seconds.
    package static func parseDuration(_ text: String) -> Duration? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0), ("", 1.0)] where t.hasSuffix(suffix) {
            guard let value = Double(t.dropLast(suffix.count)), value.isFinite, value >= 0 else { continue }
            return .milliseconds(Int64((value * scale * 1000).rounded()))
        }
        return nil
    }

    private static func fieldPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "true or false"
        default:
            // Yams names a YAML list its node type (Sequence), Codable an Array.
            "\(type)".lowercased().hasPrefix("array") || "\(type)".lowercased().contains("sequence") ? "a list" : "a mapping"
        }
    }
}

/// `2MiB`, `512KiB`, `1GiB` or a plain byte count.
func parseByteSize(_ text: String) -> Int? {
    let t = text.trimmingCharacters(in: .whitespaces)
    for (suffix, shift) in [("KiB", 10), ("MiB", 20), ("GiB", 30)] where t.hasSuffix(suffix) {
        guard let n = Int(t.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)), n >= 0, n < 1 << 20 else { return nil }
        return n << shift
    }
    return Int(t).flatMap { $0 >= 0 ? $0 : nil }
}
