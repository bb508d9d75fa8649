import Foundation

/// How this executable was linked, read from its own ELF headers, so that a baseline binary can be linked
/// the same way.
enum ExecutableLinking {
    /// Whether the dynamic section has DT_RELR: packed relative relocations, as the release link makes them
    /// (`ReleaseLinking` in Package.swift).
    static var packsRelocations: Bool {
        guard let file = FileHandle(forReadingAtPath: "/proc/self/exe") else { return false }
        defer { try? file.close() }
        func read(_ offset: UInt64, _ count: Int) -> [UInt8] {
            (try? file.seek(toOffset: offset)).flatMap { _ in try? file.read(upToCount: count) }.map { [UInt8]($0) } ?? []
        }
        func word(_ bytes: [UInt8], _ at: Int, _ size: Int) -> UInt64 {
            guard at + size <= bytes.count else { return 0 }
            return (0..<size).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
        }
        let header = read(0, 64)
        guard header.count == 64, header[0..<4] == [0x7F, 0x45, 0x4C, 0x46], header[4] == 2 else { return false } // ELF64
        let phoff = word(header, 32, 8), phentsize = Int(word(header, 54, 2)), phnum = Int(word(header, 56, 2))
        let table = read(phoff, phentsize * phnum)
        for i in 0..<phnum where word(table, i * phentsize, 4) == 2 { // PT_DYNAMIC
            let dynamic = read(word(table, i * phentsize + 8, 8), Int(word(table, i * phentsize + 32, 8)))
            return stride(from: 0, to: dynamic.count - 15, by: 16).contains { word(dynamic, $0, 8) == 36 } // DT_RELR
        }
        return false
    }

    /// The link flags of the release `icestat` (Package.swift's `ReleaseLinking`), when this binary has them.
    static var releaseFlags: [String] {
        packsRelocations ? ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"] : []
    }
}
