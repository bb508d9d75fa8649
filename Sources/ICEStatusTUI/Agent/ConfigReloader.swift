import Dispatch
import Foundation
import ICEEngine

/// Applies a changed config to a running `icestat up`, on SIGHUP and when the file changes on disk (its
/// modification time, size or inode: editors that replace the file are seen too).
///
/// A config that fails to load changes nothing: the agent runs on with the one it has, the problem is logged
/// and shown in the status until a good config loads. Only the peers and the lazy settings apply live (as
/// NetBird's network map); other changed fields are named in a warning and wait for a restart.
final class ConfigReloader: @unchecked Sendable {
    private let path: String
    private let agent: MeshAgent
    private let queue = DispatchQueue(label: "icestat.config-reload")
    private let pollInterval: DispatchTimeInterval?
    // Confined to `queue`.
    private var applied: AgentConfigLoader.Loaded
    private var stamp: FileStamp?
    private var sources: [DispatchSourceProtocol] = []
    private var running = false
    private var again = false

    /// What identifies one version of the file on disk.
    struct FileStamp: Equatable {
        var seconds: Int
        var nanoseconds: Int
        var size: Int64
        var inode: UInt64

        init?(path: String) {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            seconds = info.st_mtim.tv_sec
            nanoseconds = info.st_mtim.tv_nsec
            size = Int64(info.st_size)
            inode = UInt64(info.st_ino)
        }
    }

    init(path: String, agent: MeshAgent, loaded: AgentConfigLoader.Loaded, pollInterval: DispatchTimeInterval? = .seconds(1)) {
        self.path = path
        self.agent = agent
        self.applied = loaded
        self.pollInterval = pollInterval
    }

    /// Starts watching: SIGHUP, and (unless `pollInterval` is nil) a poll of the file's stamp.
    func start() {
        queue.async {
            self.stamp = FileStamp(path: self.path)
            signal(SIGHUP, SIG_IGN)
            let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: self.queue)
            hup.setEventHandler { [weak self] in self?.trigger(because: "SIGHUP") }
            hup.resume()
            self.sources = [hup]
            guard let interval = self.pollInterval else { return }
            let timer = DispatchSource.makeTimerSource(queue: self.queue)
            timer.schedule(deadline: .now() + interval, repeating: interval)
            timer.setEventHandler { [weak self] in
                guard let self else { return }
                let now = FileStamp(path: self.path)
                guard now != self.stamp, now != nil else { return }
                self.stamp = now
                self.trigger(because: "the file changed")
            }
            timer.resume()
            self.sources.append(timer)
        }
    }

    func stop() {
        queue.sync {
            sources.forEach { $0.cancel() }
            sources.removeAll()
        }
    }

    /// Reloads now, or once more after the reload in progress.
    private func trigger(because why: String) {
        dispatchPrecondition(condition: .onQueue(queue))
        guard !running else { again = true; return }
        running = true
        stamp = FileStamp(path: path)
        let loaded: AgentConfigLoader.Loaded
        do {
            loaded = try AgentConfigLoader.load(path: path)
        } catch {
            refuse("\(error)")
            return finish()
        }
        let previous = applied
        for warning in loaded.warnings where !previous.warnings.contains(warning) {
            StandardOutput.error("icestat up: warning: \(warning)")
        }
        let needRestart = Self.fieldsNeedingRestart(from: previous, to: loaded)
        let change = MeshPeerListChange(name: loaded.mesh.name, peers: loaded.mesh.peers, lazy: loaded.mesh.lazy,
                                        inactivityThreshold: loaded.mesh.inactivityThreshold)
        let agent = self.agent
        Task {
            let result: Result<MeshPeerListChange.Outcome, Error>
            do { result = .success(try await agent.reload(change)) } catch { result = .failure(error) }
            self.queue.async {
                switch result {
                case .success(let outcome):
                    self.applied = loaded
                    StandardOutput.error("icestat up: config reloaded (\(why)): \(outcome)")
                    if !needRestart.isEmpty {
                        StandardOutput.error("icestat up: warning: \(needRestart.joined(separator: ", ")) changed; "
                                             + "restart icestat up to apply \(needRestart.count == 1 ? "it" : "them")")
                    }
                case .failure(let error):
                    self.refuse("\(error)")
                }
                self.finish()
            }
        }
    }

    private func refuse(_ problem: String) {
        StandardOutput.error("icestat up: config reload failed: \(path): \(problem); still running with the previous config")
        agent.reportConfigError("\((path as NSString).lastPathComponent): \(problem)")
    }

    private func finish() {
        running = false
        if again {
            again = false
            trigger(because: "another change")
        }
    }

    /// The fields whose change a running agent cannot take: everything but the name, the peers and the lazy
    /// settings, and the key itself.
    static func fieldsNeedingRestart(from old: AgentConfigLoader.Loaded, to new: AgentConfigLoader.Loaded) -> [String] {
        let a = old.file, b = new.file
        var fields: [String] = []
        if a.key_file != b.key_file || old.mesh.key.publicKeyBase64 != new.mesh.key.publicKeyBase64 { fields.append("key_file") }
        if a.signal != b.signal { fields.append("signal") }
        if a.stun != b.stun { fields.append("stun") }
        if a.turn != b.turn { fields.append("turn") }
        if a.listen != b.listen { fields.append("listen") }
        if a.status_socket != b.status_socket { fields.append("status_socket") }
        if a.network_check_interval != b.network_check_interval { fields.append("network_check_interval") }
        if a.ice != b.ice { fields.append("ice") }
        if a.routed_networks != b.routed_networks { fields.append("routed_networks") }
        return fields
    }
}
