import CNCursesW

/// A key and what it does. The help overlay is generated from this table, so it cannot go stale.
struct KeyBinding {
    enum Action: Equatable {
        case quit, up, down, pageUp, pageDown, home, end, toggleDetail, back, help, pause, redraw, events
        case sort(DashboardModel.SortKey), reverseSort, editFilter, cycleStateFilter, cycleTypeFilter, faster, slower
    }

    let keys: [Int32]
    let label: String
    let help: String
    let action: Action

    private static func ch(_ c: Character) -> Int32 { Int32(c.asciiValue!) }

    static let all: [KeyBinding] = [
        KeyBinding(keys: [ch("q"), KEY_F0 + 10], label: "q/F10", help: "quit", action: .quit),
        KeyBinding(keys: [KEY_UP, ch("k")], label: "↑/k", help: "move up", action: .up),
        KeyBinding(keys: [KEY_DOWN, ch("j")], label: "↓/j", help: "move down", action: .down),
        KeyBinding(keys: [KEY_PPAGE], label: "PgUp", help: "page up", action: .pageUp),
        KeyBinding(keys: [KEY_NPAGE], label: "PgDn", help: "page down", action: .pageDown),
        KeyBinding(keys: [KEY_HOME, ch("g")], label: "Home/g", help: "first peer", action: .home),
        KeyBinding(keys: [KEY_END, ch("G")], label: "End/G", help: "last peer", action: .end),
        KeyBinding(keys: [10, 13, KEY_ENTER], label: "Enter", help: "details of the selected peer", action: .toggleDetail),
        KeyBinding(keys: [27], label: "Esc", help: "back to the list; in the list, clear filters", action: .back),
        KeyBinding(keys: [ch("n")], label: "n", help: "sort by name (again: reverse)", action: .sort(.name)),
        KeyBinding(keys: [ch("s")], label: "s", help: "sort by state", action: .sort(.state)),
        KeyBinding(keys: [ch("t")], label: "t", help: "sort by connection type", action: .sort(.type)),
        KeyBinding(keys: [ch("l")], label: "l", help: "sort by latency", action: .sort(.latency)),
        KeyBinding(keys: [ch("c")], label: "c", help: "sort by last change", action: .sort(.changed)),
        KeyBinding(keys: [ch("r"), ch("I")], label: "r/I", help: "reverse the sort order", action: .reverseSort),
        KeyBinding(keys: [ch("/")], label: "/", help: "filter by name, or key prefix (Enter keeps, Esc clears)", action: .editFilter),
        KeyBinding(keys: [ch("f")], label: "f", help: "cycle state filter: all, idle, connecting, connected", action: .cycleStateFilter),
        KeyBinding(keys: [ch("T")], label: "T", help: "cycle type filter: all, P2P, relayed", action: .cycleTypeFilter),
        KeyBinding(keys: [ch("e")], label: "e", help: "event log of all peers and the agent (/ filters by peer)", action: .events),
        KeyBinding(keys: [ch("p"), ch(" ")], label: "p/Space", help: "pause/resume updates (navigation still works)", action: .pause),
        KeyBinding(keys: [ch("+")], label: "+", help: "refresh faster", action: .faster),
        KeyBinding(keys: [ch("-")], label: "-", help: "refresh slower", action: .slower),
        KeyBinding(keys: [12], label: "Ctrl-L", help: "redraw the screen", action: .redraw),
        KeyBinding(keys: [ch("?"), KEY_F0 + 1], label: "?/F1", help: "this help", action: .help),
    ]

    static func action(for key: Int32) -> Action? {
        all.first { $0.keys.contains(key) }?.action
    }
}
