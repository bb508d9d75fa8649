import ICETestSupport
import Foundation
import Testing

/// `icestat netcheck` against real servers on loopback: `icestat stun`, coturn, a dead port and a server that
/// answers from the wrong address.
@Suite("Netcheck", .serialized, .timeLimit(.minutes(3)))
struct NetcheckTests {
    static func freePort() -> Int { Int.random(in: 43000...47000) / 2 * 2 }

    /// `icestat netcheck --json ARGS`: the document and the exit status.
    static func netcheck(_ arguments: [String]) throws -> (doc: [String: Any], status: Int32, stderr: String) {
        let r = try Harness.icestat(["netcheck", "--json", "--timeout", "0.5"] + arguments, timeout: 30)
        let doc = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        return (doc, r.status, r.stderr)
    }

    static func start(_ argv: [String], log: String, ready: String) throws -> Harness.Child {
        let child = try Harness.Child(argv, stdout: log, stderr: log)
        #expect(eventuallyBlocking(seconds: 10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(ready) }, "did not start: \(argv)")
        return child
    }

    static let directory = NSTemporaryDirectory()

    @Test func anRFC5780ResponderGivesMappingFilteringAndAVerdict() throws {
        let port = Self.freePort()
        let stun = try Self.start([Harness.binary, "stun", "--listen", "127.0.0.1:\(port)", "--alternate", "127.0.0.2:\(port + 1)"],
                                  log: Self.directory + "icestat-stun-\(port).log", ready: "listening")
        defer { stun.terminate(); stun.wait(seconds: 5) }
        let (doc, status, stderr) = try Self.netcheck(["--stun", "stun:127.0.0.1:\(port)"])
        #expect(status == 0, "\(stderr)")
        #expect(doc["udp"] as? Bool == true)
        #expect(doc["mapping"] as? String == "endpoint-independent")
        #expect(doc["filtering"] as? String == "endpoint-independent")
        #expect(doc["verdict"] as? String == "full-cone")
        #expect(doc["behindNAT"] as? Bool == false)
        #expect(doc["portPreserved"] as? Bool == true)
        #expect(doc["publicIPv4"] as? String == "127.0.0.1")
        #expect(doc["rfc5780Server"] as? String == "stun:127.0.0.1:\(port)")
        #expect((doc["notTested"] as? [String])?.isEmpty == true)
        let server = (doc["stun"] as? [[String: Any]])?.first
        #expect(server?["rfc5780"] as? Bool == true && server?["otherAddress"] as? String == "127.0.0.2:\(port + 1)")
        #expect(server?["rttMs"] is Double)
        // The text form: the verdict in the usual words beside the RFC 5780 terms.
        let text = try Harness.icestat(["netcheck", "--stun", "stun:127.0.0.1:\(port)", "--timeout", "0.5"])
        #expect(text.stdout.contains("Verdict: full cone (no NAT (this host's own address), endpoint-independent mapping, endpoint-independent filtering): "), "\(text.stdout)")
    }

    @Test func theServersComeFromAnAgentConfig() throws {
        let port = Self.freePort()
        let stun = try Self.start([Harness.binary, "stun", "--listen", "127.0.0.1:\(port)", "--alternate", "127.0.0.2:\(port + 1)"],
                                  log: Self.directory + "icestat-stun-\(port).log", ready: "listening")
        defer { stun.terminate(); stun.wait(seconds: 5) }
        let config = Self.directory + "netcheck-\(port).yaml"
        try "key_file: none.key\nsignal: 127.0.0.1:7600\nstun: [\"stun:127.0.0.1:\(port)\"]\npeers: []\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        let r = try Self.netcheck(["--config", config])
        #expect(r.status == 0 && r.doc["verdict"] as? String == "full-cone", "\(r.stderr)")
        #expect((r.doc["stun"] as? [[String: Any]])?.map { $0["url"] as? String } == ["stun:127.0.0.1:\(port)"])
        let bad = try Self.netcheck(["--config", Self.directory + "missing-\(port).yaml"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("icestat netcheck: config "), "\(bad.stderr)")
    }

    @Test func plainServersLeaveTheRFC5780PartsNotTestedAndTwoOfThemCompareMappings() throws {
        let port = Self.freePort()
        let plain = try Self.start([Harness.binary, "stun", "--listen", "127.0.0.1:\(port)"],
                                   log: Self.directory + "icestat-stun-\(port).log", ready: "listening")
        let other = try Self.start([Harness.binary, "stun", "--listen", "127.0.0.2:\(port + 1)"],
                                   log: Self.directory + "icestat-stun-\(port + 1).log", ready: "listening")
        defer { for c in [plain, other] { c.terminate(); c.wait(seconds: 5) } }
        let one = try Self.netcheck(["--stun", "stun:127.0.0.1:\(port)"])
        #expect(one.status == 0)
        #expect(one.doc["mapping"] as? String == "not-tested" && one.doc["filtering"] as? String == "not-tested")
        #expect(one.doc["verdict"] as? String == "unknown")
        #expect(one.doc["mappingVariesByDestination"] is NSNull)
        #expect(one.doc["notTested"] as? [String] == ["mapping: no server gave OTHER-ADDRESS (RFC 5780 support)",
                                                        "filtering: no server gave OTHER-ADDRESS (RFC 5780 support)"])
        let two = try Self.netcheck(["--stun", "stun:127.0.0.1:\(port)", "--stun", "stun:127.0.0.2:\(port + 1)"])
        #expect(two.doc["mappingVariesByDestination"] as? Bool == false)
        #expect((two.doc["notTested"] as? [String])?.first == "mapping: no server gave OTHER-ADDRESS (RFC 5780 support); compared two servers instead")
    }

    @Test func aDeadServerAndAServerAnsweringFromTheWrongAddressAreReportedAsSuch() throws {
        let dead = Self.freePort()
        let r = try Self.netcheck(["--stun", "stun:127.0.0.1:\(dead)"])
        #expect(r.status == 1)
        #expect(r.doc["udp"] as? Bool == false && r.doc["verdict"] as? String == "udp-blocked")
        #expect(r.stderr.contains("icestat netcheck: nothing answered (stun:127.0.0.1:\(dead): no answer)"), "\(r.stderr)")

        // A server that answers every request correctly, but from another port than the one asked.
        let port = Self.freePort()
        let log = Self.directory + "wrong-source-\(port).log"
        let liar = try Self.start(["python3", "-c", """
            import socket, struct
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(("127.0.0.1", \(port)))
            b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); b.bind(("127.0.0.1", \(port + 1)))
            print("ready", flush=True)
            while True:
                d, src = a.recvfrom(2048)
                if len(d) < 20: continue
                xip = bytes(p ^ q for p, q in zip(socket.inet_aton(src[0]), d[4:8]))
                attr = struct.pack("!HHBBH", 0x0020, 8, 0, 1, src[1] ^ 0x2112) + xip
                b.sendto(struct.pack("!HH", 0x0101, len(attr)) + d[4:20] + attr, src)
            """], log: log, ready: "ready")
        defer { liar.terminate(); liar.wait(seconds: 5) }
        let w = try Self.netcheck(["--stun", "stun:127.0.0.1:\(port)"])
        #expect(w.status == 1)
        let server = (w.doc["stun"] as? [[String: Any]])?.first
        #expect(server?["answered"] as? Bool == false)
        #expect(server?["error"] as? String == "answered from 127.0.0.1:\(port + 1) instead of 127.0.0.1:\(port); ignored", "\(String(describing: server))")
    }

    @Test func coturnWithTwoAddressesServesRFC5780AndTURNCredentialsAreCheckedPerServer() throws {
        let port = Self.freePort()
        let log = Self.directory + "coturn-netcheck-\(port).log"
        let coturn = try Harness.Child([
            "turnserver", "-n", "--listening-ip", "127.0.0.1", "--listening-ip", "127.0.0.2", "--listening-port", "\(port)",
            "--alt-listening-port", "\(port + 1)", "--relay-ip", "127.0.0.1", "--min-port", "49700", "--max-port", "49800",
            "--no-tls", "--no-dtls", "--no-cli", "--log-file", "stdout", "--lt-cred-mech", "--user", "icestat:secret",
            "--realm", "icestat.test", "--fingerprint", "--no-multicast-peers", "--allow-loopback-peers", "--verbose"], stdout: log)
        defer { kill(coturn.pid, SIGKILL); coturn.wait(seconds: 5) }
        #expect(eventuallyBlocking(seconds: 10) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("Total General servers") })
        let turn = "turn:127.0.0.1:\(port)"
        let r = try Self.netcheck(["--stun", "stun:127.0.0.1:\(port)", "--turn", turn, "--turn", turn, "--turn", turn + "?transport=tcp",
                                   "--turn-user", "icestat", "--turn-user", "icestat", "--turn-user", "icestat",
                                   "--turn-pass", "secret", "--turn-pass", "wrong", "--turn-pass", "secret"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.doc["mapping"] as? String == "endpoint-independent" && r.doc["filtering"] as? String == "endpoint-independent")
        #expect(r.doc["verdict"] as? String == "full-cone")
        let servers = r.doc["turn"] as? [[String: Any]] ?? []
        #expect(servers.count == 3)
        let good = servers.first ?? [:], bad = servers.count > 1 ? servers[1] : [:], tcp = servers.last ?? [:]
        #expect(tcp["transport"] as? String == "tcp" && tcp["allocated"] as? Bool == true && tcp["released"] as? Bool == true, "\(tcp)")
        #expect(good["reachable"] as? Bool == true && good["credentialsAccepted"] as? Bool == true
                && good["allocated"] as? Bool == true && good["released"] as? Bool == true, "\(good)")
        #expect(good["rttMs"] is Double && good["allocationMs"] is Double && good["relayedAddress"] is String)
        #expect(bad["reachable"] as? Bool == true && bad["credentialsAccepted"] as? Bool == false && bad["allocated"] as? Bool == false, "\(bad)")
        #expect((bad["error"] as? String)?.contains("refused the credentials") == true)
        #expect(((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("REFRESH processed, success"))
    }
}
