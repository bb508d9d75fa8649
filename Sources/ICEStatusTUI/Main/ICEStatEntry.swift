import ArgumentParser
import Dispatch
import ICEStatusTUI

#if canImport(Glibc)
import Glibc
#endif

/// The process entry: ArgumentParser's, but synchronous until a command needs Swift concurrency. Parsing,
/// `--help`, errors and the one-shot reports (``SynchronousRun``) then run on the main thread and start no
/// concurrency worker threads: an async `main` hops to the global executor before its first line, and the
/// threads that hop starts are a visible part of a process that lives a few milliseconds.
@main
enum ICEStatEntry {
    static func main() {
        run()
    }

    /// Out of `main`, which is the main actor's: what it makes here is not, so the task can take the command.
    private nonisolated static func run() {
        let command: ParsableCommand
        do {
            command = try ICEStat.parseAsRoot()
            if let quick = command as? SynchronousRun, try quick.runSynchronously() { return }
        } catch {
            ICEStat.exit(withError: error)
        }
        guard var asyncCommand = command as? AsyncParsableCommand else {
            var command = command
            do { try command.run() } catch { ICEStat.exit(withError: error) }
            return
        }
        // The rest run as an async main does: a task on the global executor while the main thread serves the
        // main queue; the process ends with the task.
        Task {
            do { try await asyncCommand.run() } catch { ICEStat.exit(withError: error) }
            exit(0)
        }
        dispatchMain()
    }
}
