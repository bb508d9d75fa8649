import CNCursesW

/// A key and what it does. The help overlay is generated from this table, so it cannot go stale.
struct KeyBinding {
    enum Action { case quit, up, down, pageUp, pageDown, home, end, toggleDetail, back, help, pause, redraw }

    let keys: [Int32]
    let label: String
    let help: String
    let action: Action

    static let all: [KeyBinding] = [
        KeyBinding(keys: [Int32(UInt8(ascii: "q"))], label: "q", help: "quit (or close a pane)", action: .quit),
        KeyBinding(keys: [KEY_UP, Int32(UInt8(ascii: "k"))], label: "↑/k", help: "move up", action: .up),
        KeyBinding(keys: [KEY_DOWN, Int32(UInt8(ascii: "j"))], label: "↓/j", help: "move down", action: .down),
        KeyBinding(keys: [KEY_PPAGE], label: "PgUp", help: "page up", action: .pageUp),
        KeyBinding(keys: [KEY_NPAGE], label: "PgDn", help: "page down", action: .pageDown),
        KeyBinding(keys: [KEY_HOME, Int32(UInt8(ascii: "g"))], label: "Home/g", help: "first peer", action: .home),
        KeyBinding(keys: [KEY_END, Int32(UInt8(ascii: "G"))], label: "End/G", help: "last peer", action: .end),
        KeyBinding(keys: [10, 13, KEY_ENTER], label: "Enter", help: "details of the selected peer", action: .toggleDetail),
        KeyBinding(keys: [27], label: "Esc", help: "back to the list", action: .back),
        KeyBinding(keys: [Int32(UInt8(ascii: "?")), KEY_F0 + 1], label: "?/F1", help: "this help", action: .help),
        KeyBinding(keys: [Int32(UInt8(ascii: "p"))], label: "p", help: "pause/resume updates", action: .pause),
        KeyBinding(keys: [12], label: "Ctrl-L", help: "redraw the screen", action: .redraw),
    ]

    static func action(for key: Int32) -> Action? {
        all.first { $0.keys.contains(key) }?.action
    }
}
