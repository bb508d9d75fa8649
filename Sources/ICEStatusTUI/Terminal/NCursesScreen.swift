import CNCursesW
import Foundation

/// The real terminal, through ncursesw. Create it only when stdin and stdout are terminals; every call
/// stays on the main actor.
@MainActor
package final class NCursesScreen: Screen {
    package private(set) var rows = 0
    package private(set) var columns = 0
    private let useColor: Bool
    private let screen: OpaquePointer

    enum Failure: Error, CustomStringConvertible {
        case notATerminal
        case unknownTerminal(String)

        var description: String {
            switch self {
            case .notATerminal:
                "icestat: the dashboard needs a terminal (stdin and stdout must be a tty).\nUse `icestat --detail` for a one-shot report, or `--detail --json` for scripts."
            case .unknownTerminal(let term):
                "icestat: cannot use terminal type '\(term)'.\nSet TERM to a known type (for example xterm-256color), or use `icestat --detail`."
            }
        }
    }

    /// Opens the terminal; throws (never exits) when there is no usable one.
    convenience init(color: Bool) throws {
        guard isatty(0) == 1, isatty(1) == 1 else { throw Failure.notATerminal }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        guard !term.isEmpty, let output = fdopen(1, "w"), let input = fdopen(0, "r") else { throw Failure.unknownTerminal(term) }
        try self.init(term: term, output: output, input: input, color: color)
    }

    /// A screen on any pair of streams (the frame benchmark draws to /dev/null).
    package init(term: String, output: UnsafeMutablePointer<FILE>, input: UnsafeMutablePointer<FILE>, color: Bool) throws {
        setlocale(LC_ALL, "")
        // ncursesw draws multibyte text only under a UTF-8 character type; fall back to C.UTF-8 if needed.
        if String(cString: nl_langinfo(nl_item(CODESET))) != "UTF-8" { setlocale(LC_CTYPE, "C.UTF-8") }
        guard let screen = newterm(term, output, input) else { throw Failure.unknownTerminal(term) }
        self.screen = screen
        set_term(screen)
        cbreak()
        noecho()
        nonl()
        curs_set(0)
        keypad(icestat_stdscr(), true)
        nodelay(icestat_stdscr(), true)
        set_escdelay(25)
        useColor = color && has_colors()
        if useColor {
            start_color()
            use_default_colors()
            init_pair(1, Int16(COLOR_GREEN), -1)
            init_pair(2, Int16(COLOR_YELLOW), -1)
            init_pair(3, Int16(COLOR_RED), -1)
            init_pair(4, Int16(COLOR_CYAN), -1)
            init_pair(5, Int16(COLOR_BLUE), -1)
            init_pair(6, Int16(COLOR_MAGENTA), -1)
        }
        updateSize()
    }

    func updateSize() {
        rows = Int(getmaxy(icestat_stdscr()))
        columns = Int(getmaxx(icestat_stdscr()))
    }

    package func clear() { werase(icestat_stdscr()) }

    private func attributes(_ style: ScreenStyle) -> attr_t {
        var a = icestat_a_normal()
        if style.bold { a |= icestat_a_bold() }
        if style.reverse { a |= icestat_a_reverse() }
        if style.dim { a |= icestat_a_dim() }
        if style.underline { a |= icestat_a_underline() }
        if useColor, style.color != .none { a |= icestat_color_pair(style.color.rawValue) }
        return a
    }

    package func put(_ text: String, row: Int, column: Int, style: ScreenStyle) {
        guard row >= 0, row < rows, column >= 0, column < columns else { return }
        let fitted = DisplayWidth.prefix(text, fitting: columns - column)
        let a = attributes(style)
        wattron(icestat_stdscr(), Int32(bitPattern: UInt32(truncatingIfNeeded: a)))
        mvwaddstr(icestat_stdscr(), Int32(row), Int32(column), fitted)
        wattroff(icestat_stdscr(), Int32(bitPattern: UInt32(truncatingIfNeeded: a)))
    }

    package func fillRow(_ row: Int, from column: Int, style: ScreenStyle) {
        guard column < columns else { return }
        put(String(repeating: " ", count: columns - column), row: row, column: column, style: style)
    }

    package func present() {
        wnoutrefresh(icestat_stdscr())
        doupdate()
    }

    /// Forces a full repaint on the next `present` (Ctrl-L).
    func invalidate() { clearok(icestat_stdscr(), true) }

    /// The next key, or nil when none is waiting.
    func readKey() -> Int32? {
        let k = wgetch(icestat_stdscr())
        return k == ERR ? nil : k
    }

    package func close() {
        endwin()
        delscreen(screen)
    }
}
