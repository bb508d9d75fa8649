import ArgumentParser
import NIOPosix
import StatusRecorder

/// `icestat --detail`, `--json`, `--yaml`, `--check`: one snapshot from the status socket.
enum ReportCommand {
    enum Format { case text, json, yaml }

    static func run(socketPath: String, format: Format, filter: PeerFilter, events: Int) async throws {
        let snapshot = filter.apply(try await fetch(socketPath, events: events))
        switch format {
        case .text: StandardOutput.write(DetailReport.render(snapshot, now: currentTimeMillis()))
        case .json: StandardOutput.write(StructuredReport.render(snapshot, format: .json))
        case .yaml: StandardOutput.write(StructuredReport.render(snapshot, format: .yaml))
        }
    }

    static func check(_ check: CheckArgument, socketPath: String, filter: PeerFilter) async throws {
        guard let snapshot = try? await StatusSocketClient.fetchSnapshot(path: socketPath, group: MultiThreadedEventLoopGroup.singleton),
              check.passes(filter.apply(snapshot)) else { throw ExitCode(1) }
    }

    private static func fetch(_ socketPath: String, events: Int) async throws -> StatusSnapshot {
        do {
            return try await StatusSocketClient.fetchSnapshot(path: socketPath, group: MultiThreadedEventLoopGroup.singleton, events: events)
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat: \(error)")
            throw ExitCode(2)
        }
    }
}
