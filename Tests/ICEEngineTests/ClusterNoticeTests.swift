import Testing
@testable import SignalCluster

/// The text lines signal nodes exchange through NOTIFY, and the `--cluster` URL.
struct ClusterNoticeTests {
    let a = [UInt8](repeating: 1, count: 32), b = [UInt8](repeating: 2, count: 32)

    @Test func everyNoticeSurvivesItsLine() {
        let notices: [ClusterNotice] = [.message(from: a, to: b, body: [9, 8, 7]), .online(node: "n-1", key: a),
                                        .offline(node: "n_2", key: b), .dead(node: "abc")]
        for notice in notices { #expect(ClusterNotice(line: Substring(notice.line)) == notice) }
        let parsed = ClusterNotice.parse(notices.map(\.line).joined(separator: "\n") + "\nbogus line\non bad key")
        #expect(parsed.notices == notices)
        #expect(parsed.skipped == 2)
    }

    @Test func malformedLinesAreRefused() {
        for line in ["", "m x y z", "on n1", "on n1 AAAA", "dead", "dead bad/id", "on has space " + ClusterNotice.base64(a),
                     "m \(ClusterNotice.base64(a)) \(ClusterNotice.base64(b)) !!!"] {
            #expect(ClusterNotice(line: Substring(line)) == nil, "\(line)")
        }
    }

    @Test func packingKeepsOrderAndStaysUnderTheNotifyLimit() {
        let lines = (0..<300).map { ClusterNotice.online(node: "n\($0)", key: a).line }
        let payloads = ClusterNotice.pack(lines)
        #expect(payloads.allSatisfy { $0.utf8.count <= ClusterNotice.payloadLimit })
        #expect(payloads.flatMap { $0.split(separator: "\n").map(String.init) } == lines)
        #expect(payloads.count == 2) // 300 lines of 50–52 bytes: 15,789 bytes with the newlines
        #expect(ClusterNotice.pack([String(repeating: "x", count: 8000)]).isEmpty)
    }

    @Test func nodeIDs() {
        #expect(ClusterNodeID.isValid("node-1_A"))
        #expect(!ClusterNodeID.isValid(""))
        #expect(!ClusterNodeID.isValid("a b"))
        #expect(!ClusterNodeID.isValid(String(repeating: "a", count: 41)))
        #expect(ClusterNodeID.isValid(ClusterNodeID.random()))
    }

    @Test func databaseURLs() throws {
        let url = try ClusterDatabaseURL("postgres://icestat:s%40cret@127.0.0.1:25432/mesh")
        #expect(url.user == "icestat")
        #expect(url.password == "s@cret")
        #expect(url.host == "127.0.0.1")
        #expect(url.port == 25432)
        #expect(url.database == "mesh")
        #expect(url.description == "postgres://icestat@127.0.0.1:25432/mesh")
        #expect(try ClusterDatabaseURL("postgresql://u@[::1]/db").host == "::1")
        #expect(try ClusterDatabaseURL("postgresql://u@[::1]/db").port == 5432)
        for bad in ["http://u@h/db", "postgres://h/db", "postgres://u@h", "postgres://u@h/", "nonsense"] {
            #expect(throws: ClusterDatabaseURL.Problem.self) { try ClusterDatabaseURL(bad) }
        }
    }
}
