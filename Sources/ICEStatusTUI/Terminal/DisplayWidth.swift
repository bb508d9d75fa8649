/// Terminal column widths of text, per scalar and independent of the C locale: combining marks and
/// format characters take 0 columns, East Asian wide and fullwidth characters and emoji take 2.
enum DisplayWidth {
    static func width(of scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 ? 1 : 0 }
        if v < 0xA0 { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if v == 0x200B { return 0 }
        switch v {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
             0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    static func of(_ s: String) -> Int {
        var total = 0
        for scalar in s.unicodeScalars { total += width(of: scalar) }
        return total
    }

    /// The longest prefix of `s` that fits in `columns`.
    static func prefix(_ s: String, fitting columns: Int) -> String {
        if s.utf8.count <= columns, s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return s }
        var used = 0
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let w = width(of: scalar)
            if used + w > columns { break }
            used += w
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
