import ICETestSupport
import Foundation
import Testing

/// `metrics_listen` on a running agent: scraped over HTTP, checked with promtool, and counted as peers connect,
/// go away and come back.
@Suite("Metrics", .serialized, .timeLimit(.minutes(2)))
struct MetricsTests {
    /// `GET path` on 127.0.0.1:port: status line and body.
    static func get(_ path: String, port: Int, method: String = "GET") -> (status: String, body: String)? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            response += buffer[..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        return (String(text[..<split.lowerBound]).components(separatedBy: "\r\n")[0], String(text[split.upperBound...]))
    }

    /// The value of one sample line (`name{labels} value`) in the exposition.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func scrapesArePrometheusTextAndTheCountsFollowThePeers() throws {
        let mesh = try MeshFixture()
        let port = mesh.signalPort - 5
        try mesh.configure(["ann", "bob"], lazy: false, extra: ["ann": "metrics_listen: 127.0.0.1:\(port)\nmetrics_per_peer: true"])
        try mesh.startSignal()
        try mesh.startAgent("ann")
        #expect(mesh.log("ann").contains("metrics on http://127.0.0.1:\(port)/metrics"), "\(mesh.log("ann"))")
        try mesh.startAgent("bob")
        #expect(mesh.waitAll([("ann", "bob"), ("bob", "ann")], "Connected", seconds: 15), "\(mesh.dump())")
        var text = ""
        #expect(eventuallyBlocking(seconds: 5) {
            text = Self.get("/metrics", port: port)?.body ?? ""
            return Self.value(text, "icestat_rtt_seconds_count").map { $0 >= 1 } == true
        }, "\(text)")
        // promtool, Prometheus's own linter, accepts the exposition.
        let file = mesh.directory + "/metrics.txt"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let lint = try Harness.run("/bin/sh", ["-c", "promtool check metrics < \(file)"])
        #expect(lint.status == 0, "promtool: \(lint.stdout)\(lint.stderr)\n\(text)")
        #expect(Self.value(text, #"icestat_peers{state="connected"}"#) == 1)
        #expect(Self.value(text, #"icestat_peers{state="idle"}"#) == 0)
        #expect(Self.value(text, #"icestat_connected_peers{connection_type="p2p"}"#) == 1)
        #expect(Self.value(text, #"icestat_connected_peers{connection_type="relayed"}"#) == 0)
        #expect(Self.value(text, "icestat_connection_attempts_total").map { $0 >= 1 } == true, "\(text)")
        #expect(Self.value(text, #"icestat_peer_connected{peer="bob"}"#) == 1)
        #expect(Self.value(text, #"icestat_peer_rtt_seconds{peer="bob"}"#).map { $0 > 0 && $0 < 1 } == true, "\(text)")
        #expect(Self.value(text, "icestat_signal_reconnects_total") == 0)
        #expect(text.contains("# TYPE icestat_rtt_seconds histogram") && text.contains(#"icestat_rtt_seconds_bucket{le="+Inf"}"#))

        // Traffic moves the byte counters, in total and for the peer.
        let app = try UDPProbe(), service = try UDPProbe(port: mesh.servicePort("bob", "ann"))
        let sentBefore = Self.value(text, "icestat_sent_bytes_total") ?? 0
        for i in 1...5 { app.send("metric \(i)", to: mesh.port("ann", "bob")) }
        for _ in 1...5 { _ = service.receive(seconds: 5) }
        #expect(eventuallyBlocking(seconds: 5) {
            text = Self.get("/metrics", port: port)?.body ?? ""
            return (Self.value(text, "icestat_sent_bytes_total") ?? 0) >= sentBefore + 40
                && (Self.value(text, #"icestat_peer_sent_bytes_total{peer="bob"}"#) ?? 0) >= 40
        }, "\(text)")

        // bob goes and comes back; the signal server restarts: each is counted once.
        let attempts = Self.value(text, "icestat_connection_attempts_total") ?? 0
        mesh.kill("bob")
        #expect(eventuallyBlocking(seconds: 8) { Self.value(Self.get("/metrics", port: port)?.body ?? "", #"icestat_peers{state="idle"}"#) == 1 })
        mesh.stopSignal()
        try mesh.startSignal()
        try mesh.startAgent("bob")
        #expect(mesh.waitAll([("ann", "bob")], "Connected", seconds: 15), "\(mesh.dump())")
        #expect(eventuallyBlocking(seconds: 5) {
            text = Self.get("/metrics", port: port)?.body ?? ""
            return Self.value(text, "icestat_signal_reconnects_total") == 1 && Self.value(text, #"icestat_peers{state="connected"}"#) == 1
        }, "\(text)")
        #expect((Self.value(text, "icestat_connection_attempts_total") ?? 0) > attempts, "\(text)")
        // Anything but GET /metrics is refused plainly.
        #expect(Self.get("/", port: port)?.status == "HTTP/1.1 404 Not Found")
        #expect(Self.get("/metrics", port: port, method: "POST")?.status == "HTTP/1.1 405 Method Not Allowed")
    }
}
