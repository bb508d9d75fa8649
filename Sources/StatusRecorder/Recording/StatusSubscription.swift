/// A stream of coalesced ``StatusChange`` values from a ``StatusRecorder``.
public struct StatusSubscription: AsyncSequence, Sendable {
    public typealias Element = StatusChange

    let recorder: StatusRecorder
    let subscriberID: Int
    let wake: AsyncStream<Void>

    public struct AsyncIterator: AsyncIteratorProtocol {
        let recorder: StatusRecorder
        let subscriberID: Int
        var wake: AsyncStream<Void>.AsyncIterator

        public mutating func next() async -> StatusChange? {
            while true {
                guard await wake.next() != nil else { return nil }
                guard let change = recorder.drain(subscriberID: subscriberID) else { return nil }
                if !change.isEmpty { return change }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(recorder: recorder, subscriberID: subscriberID, wake: wake.makeAsyncIterator())
    }
}
