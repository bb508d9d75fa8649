/// How a run of text is drawn. Colours map to ncurses pairs; with colour off only the attributes remain.
package struct ScreenStyle: Hashable, Sendable {
    enum Color: Int16, Sendable { case none = 0, green = 1, yellow = 2, red = 3, cyan = 4, blue = 5, magenta = 6 }
    var color: Color = .none
    var bold = false
    var reverse = false
    var dim = false
    var underline = false

    static let plain = ScreenStyle()
    static let header = ScreenStyle(reverse: true)
    static let title = ScreenStyle(bold: true)
}

/// Somewhere the dashboard draws: ncurses in the real program, a text grid in tests.
@MainActor
package protocol Screen: AnyObject {
    var rows: Int { get }
    var columns: Int { get }
    func clear()
    /// Draws `text` from (row, column), cut at the right edge.
    func put(_ text: String, row: Int, column: Int, style: ScreenStyle)
    /// Fills a row from `column` to the right edge with the style (for bars and the selection).
    func fillRow(_ row: Int, from column: Int, style: ScreenStyle)
    func present()
}
