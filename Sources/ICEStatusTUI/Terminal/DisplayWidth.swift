import CNCursesW

/// Terminal column widths of text, measured per scalar with `wcwidth` (CJK is 2 columns, combining marks 0).
enum DisplayWidth {
    static func of(_ s: String) -> Int {
        var width = 0
        for scalar in s.unicodeScalars {
            if scalar.value < 0x7F { width += scalar.value >= 0x20 ? 1 : 0; continue }
            width += max(0, Int(icestat_wcwidth(wchar_t(bitPattern: scalar.value))))
        }
        return width
    }

    /// The longest prefix of `s` that fits in `columns`.
    static func prefix(_ s: String, fitting columns: Int) -> String {
        if s.utf8.count <= columns, s.utf8.allSatisfy({ $0 < 0x80 }) { return s }
        var width = 0
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let w = scalar.value < 0x7F ? (scalar.value >= 0x20 ? 1 : 0) : max(0, Int(icestat_wcwidth(wchar_t(bitPattern: scalar.value))))
            if width + w > columns { break }
            width += w
            out.append(scalar)
        }
        return String(out)
    }

    /// `s` cut or padded with spaces to exactly `columns`.
    static func pad(_ s: String, to columns: Int, rightAligned: Bool = false) -> String {
        let cut = prefix(s, fitting: columns)
        let fill = String(repeating: " ", count: max(0, columns - of(cut)))
        return rightAligned ? fill + cut : cut + fill
    }
}
