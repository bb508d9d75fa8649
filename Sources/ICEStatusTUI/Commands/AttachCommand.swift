import ArgumentParser
import NIOPosix
import NIOCore
import StatusRecorder

/// `icestat`: the dashboard on a running agent, mirrored through its status socket.
enum AttachCommand {
    static func run(socketPath: String, display: DisplayOptions) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let mirror = StatusRecorder(derivesEvents: false)
        let channel: Channel
        do {
            channel = try await StatusSocketClient.watch(path: socketPath, group: group, into: mirror)
        } catch let error as StatusSocketError {
            StandardOutput.error("icestat: \(error)")
            throw ExitCode(2)
        }
        defer { channel.close(promise: nil) }
        // When the agent goes away the mirror stops changing; the header says so.
        channel.closeFuture.whenComplete { _ in
            mirror.updateLocal { local in
                local.servers.removeAll { $0.address == "status socket" }
                local.servers.append(ServerStatus(kind: .signal, address: "status socket", available: false,
                                                  error: "agent connection closed"))
            }
        }
        try await DashboardRunner.run(recorder: mirror, display: display)
    }
}

/// Runs the dashboard on the main actor and turns a missing terminal into a clear message and exit status 1.
enum DashboardRunner {
    static func run(recorder: StatusRecorder, display: DisplayOptions) async throws {
        do {
            try await MainActor.run {
                try Dashboard(recorder: recorder, color: display.color, refreshMillis: display.interval).run()
            }
        } catch let failure as NCursesScreen.Failure {
            StandardOutput.error(failure.description)
            throw ExitCode(1)
        }
    }
}
