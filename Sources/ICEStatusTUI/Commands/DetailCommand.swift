import ArgumentParser
import NIOPosix
import StatusRecorder

/// `icestat --detail`: one snapshot from the status socket, printed as a report.
enum DetailCommand {
    static func run(socketPath: String) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let snapshot: StatusSnapshot
        do {
            snapshot = try await StatusSocketClient.fetchSnapshot(path: socketPath, group: group)
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat: \(error)")
            throw ExitCode(2)
        }
        StandardOutput.write(DetailReport.render(snapshot, now: currentTimeMillis()))
    }
}
