import ICETestSupport
import Foundation
import Testing

/// The `icestat` binary end to end: a demo mesh read by `--detail`, the dashboard in tmux, and the error paths.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct EndToEndTests {
    @Test func detailReadsARunningDemo() throws {
        let socket = Harness.temporarySocket()
        let demoLog = NSTemporaryDirectory() + "icestat-e2e-demo-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: demoLog) }
        let demo = try TestProcess([Harness.binary, "demo", "--headless", "--plain", "--socket", socket], stderr: demoLog)
        defer { if demo.isRunning { demo.terminate() } }
        var last = ""
        var lastRun: Harness.Result?
        let allConnected = try eventuallyBlocking(seconds: 20) {
            let r = try Harness.icestat(["--detail", "--socket", socket])
            last = r.stdout
            lastRun = r
            return r.status == 0 && r.stdout.contains("Peers count: 8/8 Connected")
        }
        #expect(allConnected, """
            last report (status \(lastRun?.status ?? -1), stderr: \(lastRun?.stderr ?? "")):
            \(last)
            demo running: \(demo.isRunning), its log:
            \((try? String(contentsOfFile: demoLog, encoding: .utf8)) ?? "")
            """)
        let blocks = last.components(separatedBy: "\n\n").filter { $0.contains("Public key:") && $0.contains("Status:") }
        #expect(blocks.count == 8)
        for block in blocks {
            #expect(block.contains("Status: Connected"))
            #expect(block.contains("Connection type: P2P"))
            #expect(block.contains("ICE candidate (Local/Remote): host/host"))
            #expect(block.range(of: #"endpoints \(Local/Remote\): 127\.0\.0\.1:\d+/127\.0\.0\.1:\d+"#, options: .regularExpression) != nil)
            #expect(block.range(of: #"Latency: \d+\.\d{3} ms"#, options: .regularExpression) != nil, "\(block)")
        }
        // JSON and YAML for scripts, with filters; --check for health checks.
        let json = try Harness.icestat(["--json", "--socket", socket, "--filter-by-names", "alpha,bravo"])
        let doc = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let peers = doc["peers"] as! [String: Any]
        #expect(peers["total"] as? Int == 2 && peers["connected"] as? Int == 2)
        #expect(((peers["details"] as! [[String: Any]]).first?["latencyMs"] as? Double ?? 0) > 0)
        let yaml = try Harness.icestat(["--yaml", "--socket", socket, "--filter-by-status", "idle"])
        #expect(yaml.stdout.contains("peers:\n  total: 0\n  connected: 0\n  details: []\n"))
        #expect(try Harness.icestat(["--check", "ready", "--socket", socket]).status == 0)
        // icestat ping goes through the demo's agent to a peer and back.
        let ping = try Harness.icestat(["ping", "charlie", "-c", "2", "--interval", "100", "--socket", socket])
        #expect(ping.status == 0 && ping.stdout.components(separatedBy: " (direct) in ").count == 3, "\(ping)")
        #expect(ping.stdout.contains("pong from charlie via host 127.0.0.1:"), "\(ping)")
        #expect(try Harness.icestat(["--check", "live", "--socket", socket + ".none"]).status == 1)
        let bad = try Harness.icestat(["--detail", "--socket", socket, "--filter-by-connection-type", "carrier-pigeon"])
        #expect(bad.status == 64 && bad.stderr.contains("is invalid for '--filter-by-connection-type <type>'"))
        // Owner-only socket in an owner-only directory.
        let attributes = try FileManager.default.attributesOfItem(atPath: socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let dir = (socket as NSString).deletingLastPathComponent
        #expect((try FileManager.default.attributesOfItem(atPath: dir)[.posixPermissions] as? Int) == 0o700)
        // A second agent on the same socket is refused.
        let second = try Harness.icestat(["demo", "--headless", "--plain", "--socket", socket, "--duration", "1"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("already serving"))
        // SIGTERM stops the demo cleanly and removes the socket.
        demo.terminate()
        #expect(Harness.waitForExit(demo, seconds: 10))
        #expect(demo.wait(seconds: 1) == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func detailWithoutAnAgentSaysHowToStartOne() throws {
        let r = try Harness.icestat(["--detail", "--socket", "/tmp/icestat-nowhere-\(getpid())/status.sock"])
        #expect(r.status == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("no icestat agent is running"))
        #expect(r.stderr.contains("icestat demo"))
    }

    @Test func noTerminalPointsAtDetail() throws {
        let attach = try Harness.icestat(["--socket", "/tmp/icestat-nowhere-\(getpid())/status.sock"])
        #expect(attach.status != 0)
        let demo = try Harness.icestat(["demo"])
        #expect(demo.status == 1)
        #expect(demo.stderr.contains("needs a terminal"))
        #expect(demo.stderr.contains("--detail"))
    }

    @Test func completionsAndHelpComeFromTheArgumentParser() throws {
        let bash = try Harness.icestat(["--generate-completion-script", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("_icestat") && bash.stdout.contains("--filter-by-status"))
        let help = try Harness.icestat(["help", "demo"])
        #expect(help.status == 0 && help.stdout.contains("--peers") && help.stdout.contains("--headless"))
    }

    @Test func shortFuzzRunOfTheDecoders() throws {
        // The CI share of scripts/fuzz.sh: a crash or trap in the decoders fails it.
        let r = try Harness.icestat(["bench", "fuzz", "--inputs", "100000", "--seed", "\(UInt32.random(in: 1...UInt32.max))"], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("fuzzed 100000 inputs") && r.stdout.contains("no crash"))
    }

    @Test func startupBenchTimesEachRowBesideItsBaselines() throws {
        // The bench builds both baselines with swiftc: print("hi"), and ArgumentParser alone from this build's objects.
        let r = try Harness.icestat(["bench", "startup", "--runs", "1"], timeout: 240)
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first { $0.hasPrefix("print(\"hi\")") }?.hasSuffix(" ms   baseline") == true, "\(r.stdout)")
        for row in ["icestat --help ", "icestat --detail, agent with 0 peers ", "icestat --json, agent with 0 peers ",
                    "ArgumentParser alone, status's options, --detail "] {
            let line = lines.first { $0.hasPrefix(row) }
            #expect(line?.range(of: #" ms +[0-9]+\.[0-9]{2}x$"#, options: .regularExpression) != nil, "no '\(row)' row in:\n\(r.stdout)")
        }
        #expect(lines.last == "target: icestat --help and --detail at most 1.5x the baseline")
    }

    @Test func badArgumentsAreClearErrors() throws {
        let r = try Harness.icestat(["demo", "--peers", "0"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--peers must be between 1 and 1000"))
    }

    @Test func dashboardInTmuxShowsEveryPeerConnected() throws {
        let socket = Harness.temporarySocket()
        // The demo's stderr and exit status go to a file, so a demo that ends early says why.
        let demoLog = NSTemporaryDirectory() + "icestat-e2e-tmux-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: demoLog) }
        let session = try TmuxSession(command: "\(Harness.binary) demo --plain --socket \(socket) 2>\(demoLog); echo exit status $? >>\(demoLog)",
                                      columns: 120, rows: 20)
        let connected = session.waitFor(seconds: 20) { screen in
            screen.contains("peers 8/8 connected")
                && screen.split(separator: "\n").count { $0.contains("Connected  P2P       host 127.0.0.1:") } == 8
        }
        #expect(connected, """
            screen:
            \(session.capture())
            demo's log:
            \((try? String(contentsOfFile: demoLog, encoding: .utf8)) ?? "")
            """)
        // Colour by state: Connected rows are green.
        #expect(session.capture(escapes: true).contains("32m"))
        // Enter opens the selected peer's details; Esc returns.
        session.send("Enter")
        #expect(session.waitFor(seconds: 5) { $0.contains("Peer details") && $0.contains("Remote candidate:  host 127.0.0.1:") })
        session.send("Escape")
        #expect(session.waitFor(seconds: 5) { $0.contains("PEER") && !$0.contains("Peer details") })
        session.send("?")
        #expect(session.waitFor(seconds: 5) { $0.contains("Keys") && $0.contains("details of the selected peer") })
        session.send("?")
        // j moves the selection down; the detail pane then shows the second peer.
        session.send("j")
        session.send("Enter")
        #expect(session.waitFor(seconds: 5) { $0.contains("Peer:              bravo") })
        session.send("Escape")
        // Sort by latency, then reverse: the sorted column is marked.
        session.send("l")
        #expect(session.waitFor(seconds: 5) { $0.contains("LATENCY▲") })
        session.send("l")
        #expect(session.waitFor(seconds: 5) { $0.contains("LATENCY▼") })
        session.send("n")
        // Type a filter: only matching rows, and the footer counts them.
        session.send("/")
        session.send("-l", "del")
        session.send("Enter")
        #expect(session.waitFor(seconds: 5) { screen in
            screen.contains("filter \"del\": 1 of 8") && screen.contains("delta") && !screen.contains("alpha")
        }, "screen:\n\(session.capture())")
        session.send("Escape")
        session.send("f", "f", "f") // all → idle → connecting → connected
        #expect(session.waitFor(seconds: 5) { $0.contains("filter connected: 8 of 8") })
        session.send("f")
        session.send("T") // type filter: P2P
        #expect(session.waitFor(seconds: 5) { $0.contains("filter P2P: 8 of 8") })
        session.send("T", "T")
        // Pause freezes updates and says so.
        session.send("p")
        #expect(session.waitFor(seconds: 5) { $0.contains("[PAUSED]") })
        session.send("p")
        session.send("C-l")
        #expect(session.waitFor(seconds: 5) { !$0.contains("[PAUSED]") && $0.contains("peers 8/8 connected") })
        // A terminal too small for the table gets a page saying the size needed; growing it back restores it.
        session.resize(columns: 30, rows: 6)
        #expect(session.waitFor(seconds: 5) { $0.contains("Terminal too small") && $0.contains("need 40x8") })
        session.resize(columns: 120, rows: 20)
        #expect(session.waitFor(seconds: 5) { $0.contains("peers 8/8 connected") })
        // A second terminal attaches to the same agent through the status socket.
        let viewer = try TmuxSession(command: "\(Harness.binary) --socket \(socket)", columns: 120, rows: 32)
        #expect(viewer.waitFor(seconds: 10) { $0.contains("peers 8/8 connected") }, "viewer:\n\(viewer.capture())")
        // The agent's events cross the socket too: `e` shows the log, the detail pane a peer's latest.
        viewer.send("e")
        #expect(viewer.waitFor(seconds: 5) { screen in
            screen.contains(" Events") && screen.contains("events, following")
                && screen.split(separator: "\n").count { $0.contains("Connecting → Connected") } >= 6
        }, "viewer:\n\(viewer.capture())")
        // g goes to the oldest: the agent's own first event.
        viewer.send("g")
        #expect(viewer.waitFor(seconds: 5) { screen in
            screen.split(separator: "\n").contains { $0.contains(" agent ") && $0.contains("signal connected: 127.0.0.1:") }
                && screen.contains("newer below")
        }, "viewer:\n\(viewer.capture())")
        viewer.send("/")
        viewer.send("-l", "hotel")
        viewer.send("Enter")
        #expect(viewer.waitFor(seconds: 5) { screen in
            screen.contains("Events of \"hotel\"") && screen.contains("hotel  Connecting → Connected") && !screen.contains("alpha  ")
        }, "viewer:\n\(viewer.capture())")
        viewer.send("Escape")
        viewer.send("Enter")
        #expect(viewer.waitFor(seconds: 5) { $0.contains("Peer details") && $0.contains("Recent events") && $0.contains("Idle → Connecting") },
                "viewer:\n\(viewer.capture())")
        viewer.send("q")
        #expect(eventuallyBlocking(seconds: 5) { !viewer.isAlive })
        // Ctrl-C (SIGINT) ends the demo cleanly: terminal restored, socket removed.
        session.send("C-c")
        #expect(eventuallyBlocking(seconds: 10) { !session.isAlive })
        #expect(!FileManager.default.fileExists(atPath: socket))
    }

    @Test func noColorIsRespected() throws {
        let socket = Harness.temporarySocket()
        let session = try TmuxSession(command: "\(Harness.binary) demo --plain --peers 2 --socket \(socket)", columns: 120, rows: 12,
                                      environment: ["NO_COLOR": "1"])
        #expect(session.waitFor(seconds: 20) { $0.contains("peers 2/2 connected") })
        let screen = session.capture(escapes: true)
        for colour in ["32m", "33m", "31m", "36m"] { #expect(!screen.contains("[\(colour)") && !screen.contains(";\(colour)")) }
        // The terminal going away (hang-up, end of input) ends the demo cleanly: it removes its socket.
        _ = try session.tmux(["kill-server"])
        #expect(eventuallyBlocking(seconds: 10) { !FileManager.default.fileExists(atPath: socket) })
    }
}
