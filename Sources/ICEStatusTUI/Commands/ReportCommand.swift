import ArgumentParser
import StatusRecorder

/// `icestat --detail`, `--json`, `--yaml`, `--check`: one snapshot from the status socket.
enum ReportCommand {
    enum Format { case text, json, yaml }

    /// Formats each peer as the stream brings it and prints the report once it is whole; a stream cut short or
    /// garbled prints nothing to standard output, an error, and exits 2.
    static func run(socketPath: String, format: Format, filter: PeerFilter, events: Int) throws {
        let now = currentTimeMillis()
        let request = StatusRequest.snapshot(full: false, events: events)
        let output: [ReportBytes]
        do {
            switch format {
            case .text: output = try read(socketPath, request, ReportStream(DetailReport(now: now), filter: filter))
            case .json: output = try read(socketPath, request, ReportStream(StructuredReport.Writer(format: .json, now: now), filter: filter))
            case .yaml: output = try read(socketPath, request, ReportStream(StructuredReport.Writer(format: .yaml, now: now), filter: filter))
            }
        } catch {
            StandardOutput.error("icestat: \(error)")
            throw ExitCode(2)
        }
        for piece in output { StandardOutput.write(piece) }
    }

    static func check(_ check: CheckArgument, socketPath: String, filter: PeerFilter) throws {
        var sink = SnapshotSink()
        do {
            try StatusSocketReader.read(path: socketPath, request: .snapshot(full: false, events: 0), into: &sink) { $0.snapshot != nil }
        } catch {
            throw ExitCode(1)
        }
        guard let snapshot = sink.snapshot, check.passes(filter.apply(snapshot)) else { throw ExitCode(1) }
    }

    private static func read<F: ReportFormatter>(_ path: String, _ request: StatusRequest, _ stream: ReportStream<F>) throws(StatusSocketError) -> [ReportBytes] {
        var stream = stream
        try StatusSocketReader.read(path: path, request: request, into: &stream) { $0.output != nil }
        return stream.output ?? []
    }
}

/// Keeps the first batch as a snapshot (for `--check`, which needs every peer at once).
private struct SnapshotSink: StatusStreamSink {
    private var peers: [PeerStatus] = []
    private var local = LocalAgentStatus()
    private(set) var snapshot: StatusSnapshot?

    mutating func local(_ local: LocalAgentStatus) { self.local = local }
    mutating func peer(_ peer: PeerStatus) { peers.append(peer) }
    mutating func event(_ event: StatusEvent) {}
    mutating func removed(peerID: String) {}
    mutating func batchEnd() {
        if snapshot == nil { snapshot = StatusSnapshot(local: local, peers: peers, takenAtMillis: currentTimeMillis()) }
    }
}
