#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a report as it is written: literals, strings and decimal numbers appended to one block of memory.
///
/// A report makes tens of small writes per peer and grows to megabytes, so both costs count: a write is a
/// capacity check and a copy (a NIO `ByteBuffer` also checks its storage's exclusive access on every call), and the
/// block grows with `realloc`, which moves a large block by remapping its pages where an array's growth copies
/// them into fresh ones, faulting each page in twice.
///
/// A value semantics type: a copy that is written to first takes its own block.
struct ReportBytes {
    /// Frees the block when the last copy goes.
    private final class Owner {
        var block: UnsafeMutableRawPointer?
        init(_ block: UnsafeMutableRawPointer?) { self.block = block }
        deinit { free(block) }
    }

    private var owner: Owner
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 0) {
        self.capacity = max(capacity, 64)
        let block = malloc(self.capacity)!
        base = block.assumingMemoryBound(to: UInt8.self)
        owner = Owner(block)
    }

    /// The bytes written so far, as an array (a copy).
    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    func withUnsafeBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try withExtendedLifetime(owner) { try body(UnsafeBufferPointer(start: base, count: count)) }
    }

    /// Room for `n` more bytes, in a block this value alone writes to.
    @inline(__always)
    private mutating func room(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        if count + n > capacity || !isKnownUniquelyReferenced(&owner) { grow(to: count + n) }
        return base + count
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let block: UnsafeMutableRawPointer
        if isKnownUniquelyReferenced(&owner) {
            block = realloc(owner.block, newCapacity)!
        } else {
            block = malloc(newCapacity)!
            block.copyMemory(from: base, byteCount: count)
            owner = Owner(nil)
        }
        owner.block = block
        base = block.assumingMemoryBound(to: UInt8.self)
        capacity = newCapacity
    }

    mutating func put(_ raw: UnsafeBufferPointer<UInt8>) {
        guard let source = raw.baseAddress else { return }
        let n = raw.count
        room(n).update(from: source, count: n)
        count += n
    }

    mutating func put(_ s: StaticString) {
        // `utf8Start` holds only for a pointer representation, which every literal has; the scalar form goes the long way.
        guard s.hasPointerRepresentation else { return s.withUTF8Buffer { put($0) } }
        let n = s.utf8CodeUnitCount
        room(n).update(from: s.utf8Start, count: n)
        count += n
    }

    /// `prefix` (if any), a line break, `indent` spaces, then `suffix` (if any), in one write: what goes before a
    /// member of indented JSON (`,\n      "`).
    mutating func putLineBreak(after prefix: UInt8?, indent: Int, before suffix: UInt8?) {
        let n = (prefix == nil ? 0 : 1) + 1 + max(indent, 0) + (suffix == nil ? 0 : 1)
        var p = room(n)
        if let prefix { p.pointee = prefix; p += 1 }
        p.pointee = 10
        p += 1
        if indent > 0 { p.update(repeating: 32, count: indent); p += indent }
        if let suffix { p.pointee = suffix }
        count += n
    }

    /// A string's bytes. Labelled so that a literal, `put("...")`, takes the ``put(_:)-StaticString`` overload
    /// (a bare copy of its bytes) instead of this one: Swift prefers `String` for a literal when both fit.
    mutating func put(text s: String) {
        let copied: Void? = s.utf8.withContiguousStorageIfAvailable { put($0) }
        if copied == nil { put(Array(s.utf8)) }
    }

    mutating func put(_ other: [UInt8]) {
        other.withUnsafeBufferPointer { put($0) }
    }

    mutating func put(byte: UInt8) {
        room(1).pointee = byte
        count += 1
    }

    mutating func put(spaces n: Int) {
        guard n > 0 else { return }
        room(n).update(repeating: 32, count: n)
        count += n
    }

    mutating func put(decimal n: Int64) {
        if n < 0 { put(byte: UInt8(ascii: "-")) }
        put(digitsOf: n.magnitude, width: 1)
    }

    mutating func put(decimal n: Int) { put(decimal: Int64(n)) }

    mutating func put(decimal n: UInt64) { put(digitsOf: n, width: 1) }

    /// `n` with leading zeros to at least `width` digits (`007`).
    mutating func put(decimal n: UInt64, zeroPaddedTo width: Int) { put(digitsOf: n, width: width) }

    private mutating func put(digitsOf n: UInt64, width: Int) {
        var digits = 1
        var rest = n / 10
        while rest > 0 { digits += 1; rest /= 10 }
        let length = max(digits, min(width, 20))
        let out = room(length)
        var v = n
        for i in stride(from: length - 1, through: 0, by: -1) {
            out[i] = UInt8(truncatingIfNeeded: v % 10) &+ UInt8(ascii: "0")
            v /= 10
        }
        count += length
    }
}
