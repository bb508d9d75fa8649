/// A set of ``PeerTable`` slots, one bit each: a subscriber marks a changed peer without hashing its id, however
/// many peers change each second, and reads the marks back in slot order.
struct SlotMarks: Sequence {
    private var words: [UInt64] = []
    /// How many slots are marked.
    private(set) var count = 0

    init() {}

    init(_ slots: some Sequence<Int>) {
        for slot in slots { insert(slot) }
    }

    var isEmpty: Bool { count == 0 }

    func contains(_ slot: Int) -> Bool {
        let (word, bit) = slot.quotientAndRemainder(dividingBy: 64)
        return word < words.count && words[word] & (1 << UInt64(bit)) != 0
    }

    mutating func insert(_ slot: Int) {
        let (word, bit) = slot.quotientAndRemainder(dividingBy: 64)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let mask: UInt64 = 1 << UInt64(bit)
        if words[word] & mask == 0 {
            words[word] |= mask
            count += 1
        }
    }

    mutating func remove(_ slot: Int) {
        let (word, bit) = slot.quotientAndRemainder(dividingBy: 64)
        let mask: UInt64 = 1 << UInt64(bit)
        guard word < words.count, words[word] & mask != 0 else { return }
        words[word] &= ~mask
        count -= 1
    }

    /// The marks as they are, and these cleared (keeping their room).
    mutating func take() -> SlotMarks {
        let taken = self
        self = SlotMarks()
        words = [UInt64](repeating: 0, count: taken.words.count)
        return taken
    }

    struct Iterator: IteratorProtocol {
        fileprivate let words: [UInt64]
        fileprivate var word = 0
        fileprivate var bits: UInt64 = 0

        mutating func next() -> Int? {
            while bits == 0 {
                guard word < words.count else { return nil }
                bits = words[word]
                word += 1
            }
            let bit = bits.trailingZeroBitCount
            bits &= bits - 1
            return (word - 1) * 64 + bit
        }
    }

    func makeIterator() -> Iterator { Iterator(words: words) }
}
