import Foundation
import ICETestSupport
import Testing

/// `icestat probe` against itself and against aioice (PyPI), wired through the probe protocol on loopback.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct InteropTests {
    static let interop = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("interop").path

    struct Transcript {
        var a: [[String: Any]]
        var b: [[String: Any]]
        var status: [Int]
        var stderr: [String]

        func lines(_ side: String, _ type: String) -> [[String: Any]] {
            (side == "a" ? a : b).filter { $0["type"] as? String == type }
        }
    }

    func crosswire(_ a: [String], _ b: [String], coturn: Bool = false, tls: TestCertificates? = nil) throws -> Transcript {
        let server = coturn ? ["--coturn"] + (tls.map { ["--tls", $0.certificate, $0.key] } ?? []) : []
        let r = try Harness.run("python3", ["\(Self.interop)/crosswire.py", "25"] + server + ["--"] + a + ["--"] + b, timeout: 100)
        // No JSON (the harness itself failed): the failure shows the harness's stderr and exit status.
        let doc = try #require((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) as? [String: Any],
                               "crosswire.py exited \(r.status) without a transcript; stderr: \(r.stderr)")
        return Transcript(a: doc["a"] as! [[String: Any]], b: doc["b"] as! [[String: Any]], status: doc["status"] as! [Int],
                          stderr: doc["stderr"] as! [String])
    }

    var icestat: [String] { [Harness.binary, "probe", "--interface", "lo", "--network", "udp4"] }
    var aioice: [String] { ["python3", "\(Self.interop)/aioice_probe.py"] }

    /// Both sides connected on 127.0.0.1 and echoed five datagrams; `types` are each side's (local, remote) types.
    func expectConnectedAndEchoed(_ t: Transcript, icestatSides: [String],
                                  types: [String: (String, String)] = ["a": ("host", "host"), "b": ("host", "host")]) {
        #expect(t.status == [0, 0], "stderr: \(t.stderr)\na: \(t.a)\nb: \(t.b)")
        for side in ["a", "b"] {
            #expect((side == "a" ? t.a : t.b).first?["type"] as? String == "credentials")
            #expect(t.lines(side, "done").first?["echoed"] as? Int == 5, "side \(side): \(side == "a" ? t.a : t.b)")
            let connected = t.lines(side, "connected").first
            let local = connected?["local"] as? [String: Any], remote = connected?["remote"] as? [String: Any]
            #expect(local?["address"] as? String == "127.0.0.1" && remote?["address"] as? String == "127.0.0.1")
            // The remote candidate may show as peer-reflexive: its checks can outrun its signalling (RFC 8445 §7.3.1.3).
            let remoteType = remote?["type"] as? String
            #expect(local?["type"] as? String == types[side]?.0 && (remoteType == types[side]?.1 || remoteType == "prflx"),
                    "side \(side): \(String(describing: connected))")
            if icestatSides.contains(side) {
                #expect(((connected?["rtt_ms"] as? Double) ?? 0) > 0)
                for candidate in t.lines(side, "candidate") {
                    #expect((candidate["candidate"] as? String)?.contains(" 127.0.0.1 ") == true)
                }
                if types[side]?.0 == "relay" {
                    // Relay-only: nothing but relayed candidates is offered.
                    #expect(t.lines(side, "candidate").allSatisfy { ($0["candidate"] as? String)?.contains("typ relay") == true })
                }
            }
        }
    }

    @Test func icestatWithItself() throws {
        let t = try crosswire(icestat + ["--controlling"], icestat + ["--controlled"])
        expectConnectedAndEchoed(t, icestatSides: ["a", "b"])
    }

    @Test func bothControllingResolveTheRoleConflict() throws {
        let t = try crosswire(icestat + ["--controlling"], icestat + ["--controlling"])
        #expect(t.status == [0, 0], "stderr: \(t.stderr)")
        // Exactly one side keeps the controlling role and sends the pings; both print done.
        #expect(t.lines("a", "done").count == 1 && t.lines("b", "done").count == 1)
    }

    @Test func icestatControllingWithAioice() throws {
        let t = try crosswire(icestat + ["--controlling"], aioice + ["--controlled"])
        expectConnectedAndEchoed(t, icestatSides: ["a"])
    }

    @Test func icestatControlledWithAioice() throws {
        let t = try crosswire(aioice + ["--controlling"], icestat + ["--controlled"])
        expectConnectedAndEchoed(t, icestatSides: ["b"])
    }

    var turn: [String] { ["--turn", "{TURN}", "--turn-user", "test", "--turn-pass", "secret"] }

    @Test func icestatRelayOnlyWithAioice() throws {
        let t = try crosswire(icestat + ["--controlling", "--relay-only"] + turn, aioice + ["--controlled"], coturn: true)
        expectConnectedAndEchoed(t, icestatSides: ["a"], types: ["a": ("relay", "host"), "b": ("host", "relay")])
    }

    @Test func aioiceRelayOnlyWithIcestatControlled() throws {
        let t = try crosswire(aioice + ["--controlling", "--relay-only"] + turn, icestat + ["--controlled"], coturn: true)
        expectConnectedAndEchoed(t, icestatSides: ["b"], types: ["a": ("relay", "host"), "b": ("host", "relay")])
    }

    @Test func bothRelayOnly() throws {
        let t = try crosswire(icestat + ["--controlling", "--relay-only"] + turn, icestat + ["--controlled", "--relay-only"] + turn,
                              coturn: true)
        expectConnectedAndEchoed(t, icestatSides: ["a", "b"], types: ["a": ("relay", "relay"), "b": ("relay", "relay")])
    }

    static let certificates = Result { try TestCertificates(names: ["127.0.0.1"]) }

    /// icestat relay-only over TURN/TCP or TURN/TLS, in either role, against icestat or aioice on host candidates.
    @Test(arguments: [TURNURL.tcp, .tls].flatMap { t in [true, false].flatMap { c in ["icestat", "aioice"].map { RelayCase(transport: t, controlling: c, peer: $0) } } })
    func relayOnlyOverAStream(_ relayCase: RelayCase) throws {
        let (transport, controlling, peer) = (relayCase.transport, relayCase.controlling, relayCase.peer)
        let certs = try Self.certificates.get()
        let relay = icestat + [controlling ? "--controlling" : "--controlled", "--relay-only", "--turn", transport.rawValue,
                               "--turn-user", "test", "--turn-pass", "secret"] + (transport == .tls ? ["--turn-ca", certs.caFile] : [])
        let other = (peer == "icestat" ? icestat : aioice) + [controlling ? "--controlled" : "--controlling"]
        let t = try crosswire(controlling ? relay : other, controlling ? other : relay, coturn: true, tls: certs)
        let (r, o) = controlling ? ("a", "b") : ("b", "a")
        expectConnectedAndEchoed(t, icestatSides: peer == "icestat" ? ["a", "b"] : [r],
                                 types: [r: ("relay", "host"), o: ("host", "relay")])
        #expect(t.stderr[controlling ? 0 : 1].contains("icestat probe: TURN "), "\(t.stderr)")
    }

    /// aioice relay-only over TURN/TCP and TURN/TLS against icestat on host candidates.
    @Test(arguments: [TURNURL.tcp, .tls])
    func aioiceRelayOnlyOverAStream(_ transport: TURNURL) throws {
        let certs = try Self.certificates.get()
        let relay = aioice + ["--controlling", "--relay-only", "--turn", transport.rawValue, "--turn-user", "test", "--turn-pass", "secret",
                              "--turn-ca", certs.caFile]
        let t = try crosswire(relay, icestat + ["--controlled"], coturn: true, tls: certs)
        expectConnectedAndEchoed(t, icestatSides: ["b"], types: ["a": ("relay", "host"), "b": ("host", "relay")])
    }

    struct RelayCase: Sendable, CustomTestStringConvertible {
        var transport: TURNURL
        var controlling: Bool
        var peer: String
        var testDescription: String { "\(transport.testDescription), icestat \(controlling ? "controlling" : "controlled"), with \(peer)" }
    }

    enum TURNURL: String, Sendable, CustomTestStringConvertible {
        case tcp = "{TURNTCP}"
        case tls = "{TURNS}"
        var testDescription: String { self == .tcp ? "TURN/TCP" : "TURN/TLS" }
    }

    @Test func stunThroughCoturnOnBothSides() throws {
        // Both gather through coturn's STUN. On loopback there is no NAT, so the mapped address is the host
        // address: icestat prunes the redundant srflx and says what the server answered.
        let t = try crosswire(icestat + ["--controlling", "--stun", "{STUN}"], aioice + ["--controlled", "--stun", "{STUN}"], coturn: true)
        expectConnectedAndEchoed(t, icestatSides: ["a"])
        #expect(t.stderr[0].contains("mapped address 127.0.0.1:"), "\(t.stderr[0])")
        #expect(!t.lines("a", "candidate").contains { ($0["candidate"] as? String)?.contains("typ srflx") == true })
    }

    @Test func directPathPreferredOverRelay() throws {
        // Both may relay, but the direct pair works: it is the one chosen.
        let t = try crosswire(icestat + ["--controlling"] + turn, icestat + ["--controlled"] + turn, coturn: true)
        expectConnectedAndEchoed(t, icestatSides: ["a", "b"])
        #expect(t.lines("a", "candidate").contains { ($0["candidate"] as? String)?.contains("typ relay") == true })
    }

    func probeAgainstSilentRemote(keepInputOpenFor seconds: Int) throws -> (lines: [String], elapsed: Double) {
        // The remote's credentials and candidate arrive, but nothing answers at that address.
        let r = try Harness.run("/bin/sh", ["-c", """
            { printf '%s\\n' '{"type":"credentials","ufrag":"abcd","pwd":"0123456789abcdefghijklmn"}' \
              '{"type":"candidate","candidate":"candidate:1 1 udp 2130706431 127.0.0.1 9 typ host"}' \
              '{"type":"end-of-candidates"}'; sleep \(seconds); } | \
              { s=$(date +%s%N); \(Harness.binary) probe --controlling --interface lo --network udp4 --timeout 3; \
                code=$?; echo "ms=$(( ($(date +%s%N) - s) / 1000000 ))"; echo "exit=$code"; }
            """], timeout: 20)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let ms = lines.first { $0.hasPrefix("ms=") }.flatMap { Double($0.dropFirst(3)) } ?? .infinity
        return (lines, ms / 1000)
    }

    @Test func silentRemoteFailsWithinTheTimeout() throws {
        let (lines, elapsed) = try probeAgainstSilentRemote(keepInputOpenFor: 8)
        #expect(lines.last == "exit=1")
        #expect(lines.contains { $0.contains(#""type":"error""#) }, "\(lines)")
        #expect(!lines.contains { $0.contains(#""type":"connected""#) })
        #expect(elapsed >= 2.5 && elapsed < 6, "the probe should give up at its 3 s timeout, not wait for its input to close")
    }

    @Test func signallingClosedEarlyIsAnError() throws {
        let (lines, _) = try probeAgainstSilentRemote(keepInputOpenFor: 0)
        #expect(lines.last == "exit=1")
        #expect(lines.contains { $0.contains("signalling closed before a pair was selected") }, "\(lines)")
    }
}
