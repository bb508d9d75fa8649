import StatusRecorder

/// JSON on one line, for streams of records (`icestat events --json`: JSON Lines).
extension StructuredReport {
    /// An event as JSON without line breaks, then a newline.
    static func compactJSON(_ event: StatusEvent) -> [UInt8] {
        var emitter = StructuredEmitter(style: .compactJSON, start: .json(indent: 0))
        self.event(event, into: &emitter)
        emitter.out.put(byte: 10)
        return emitter.out.bytes
    }
}
