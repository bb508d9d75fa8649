/// A command that can often finish without Swift concurrency: the one-shot reports, whose whole life is one
/// blocking exchange with the status socket. The root command runs these first, on the main thread, so
/// such a run never starts the concurrency runtime's worker threads (a thread start is a visible part of a
/// millisecond-scale process).
package protocol SynchronousRun {
    /// Runs the command to its end and returns true, or returns false, having done nothing, when this run
    /// needs the async path (`run() async`).
    func runSynchronously() throws -> Bool
}
