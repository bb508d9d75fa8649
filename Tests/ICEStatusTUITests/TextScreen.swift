@testable import ICEStatusTUI

/// An in-memory screen: a grid of characters plus the style of each cell, for drawing tests.
@MainActor
final class TextScreen: Screen {
    let rows: Int
    let columns: Int
    private(set) var cells: [[Character]]
    private(set) var styles: [[ScreenStyle]]

    init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
        cells = Array(repeating: Array(repeating: " ", count: columns), count: rows)
        styles = Array(repeating: Array(repeating: .plain, count: columns), count: rows)
    }

    func clear() {
        cells = Array(repeating: Array(repeating: " ", count: columns), count: rows)
        styles = Array(repeating: Array(repeating: .plain, count: columns), count: rows)
    }

    func put(_ text: String, row: Int, column: Int, style: ScreenStyle) {
        guard row >= 0, row < rows else { return }
        var x = column
        for ch in text where x < columns {
            cells[row][x] = ch
            styles[row][x] = style
            x += 1
        }
    }

    func fillRow(_ row: Int, from column: Int, style: ScreenStyle) {
        guard row >= 0, row < rows, column < columns else { return }
        put(String(repeating: " ", count: columns - column), row: row, column: column, style: style)
    }

    func present() {}

    var lines: [String] { cells.map { String($0).replacingTrailingSpaces() } }
    var text: String { lines.joined(separator: "\n") }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
