import CNCurses
import Foundation

/// The real terminal, through ncursesw: wide characters, colour pairs made on demand, keys with a timeout.
///
/// ncurses keeps global state and is not thread-safe: one instance, used from one task only.
public final class NCursesTerminal: TerminalScreen {
    private var pairs: [Int32: Int16] = [:]
    private var colors: Bool
    private var closed = false

    /// Takes over the terminal. Fails when standard input or output is not a terminal.
    /// - Parameter mouse: report clicks and the wheel (`--no-mouse` turns it off, which leaves the
    ///   terminal's own selection working).
    public init(mouse: Bool = true) throws(ConsoleError) {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { throw .notATerminal }
        if setlocale(LC_ALL, "") == nil || !(String(cString: setlocale(LC_CTYPE, nil)).uppercased().contains("UTF")) {
            // Without a UTF-8 locale ncurses writes wide characters as mojibake.
            setlocale(LC_ALL, "C.UTF-8")
        }
        setenv("ESCDELAY", "25", 0)
        guard initscr() != nil else { throw .terminal("initscr failed; check $TERM") }
        cbreak()
        noecho()
        nonl()
        keypad(hl_stdscr(), true)
        curs_set(0)
        if mouse { hl_mouse_on() }
        colors = has_colors()
        if colors {
            start_color()
            use_default_colors()
        }
    }

    public var size: (width: Int, height: Int) {
        (Int(hl_cols()), Int(hl_lines()))
    }

    public func present(_ grid: ScreenGrid, theme: Theme) {
        for y in 0..<min(grid.height, Int(hl_lines())) {
            move(Int32(y), 0)
            var x = 0
            while x < min(grid.width, Int(hl_cols())) {
                let cell = grid[x, y]
                if cell.width == 0 {
                    x += 1
                    continue
                }
                let style = theme.style(cell.style)
                let (attributes, pair) = resolve(style)
                var scalars = cell.character.unicodeScalars.prefix(4).map { wchar_t(bitPattern: $0.value) }
                scalars.append(0)
                _ = scalars.withUnsafeBufferPointer { hl_add_cluster($0.baseAddress, attributes, pair) }
                x += Int(cell.width)
            }
        }
        refresh()
    }

    private func resolve(_ style: Style) -> (attr_t, Int16) {
        var attributes = hl_a_normal()
        if style.bold { attributes |= hl_a_bold() }
        if style.dim { attributes |= hl_a_dim() }
        if style.underline { attributes |= hl_a_underline() }
        if style.reverse { attributes |= hl_a_reverse() }
        guard colors else { return (attributes, 0) }
        var foreground = style.foreground.index
        var background = style.background.index
        let available = Int16(truncatingIfNeeded: hl_colors())
        if foreground >= available {
            if foreground >= 8 && foreground < 16 { attributes |= hl_a_bold() }
            foreground = foreground % 8
        }
        if background >= available { background = background % 8 }
        if foreground < 0 && background < 0 { return (attributes, 0) }
        let key = Int32(foreground) << 16 | Int32(UInt16(bitPattern: background))
        if let pair = pairs[key] { return (attributes, pair) }
        let pair = Int16(pairs.count + 1)
        guard Int32(pair) < hl_color_pairs() else { return (attributes, 0) }
        init_pair(pair, foreground, background)
        pairs[key] = pair
        return (attributes, pair)
    }

    public func nextKey(timeoutMilliseconds: Int) -> Key? {
        timeout(Int32(timeoutMilliseconds))
        var character: wint_t = 0
        let result = get_wch(&character)
        if result == hl_key_code_yes() {
            switch Int32(character) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_NPAGE: return .pageDown
            case KEY_PPAGE: return .pageUp
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE: return .backspace
            case KEY_RESIZE: return .resize
            case KEY_MOUSE:
                var x: Int32 = 0, y: Int32 = 0
                switch hl_get_mouse(&x, &y) {
                case 1: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .click))
                case 2: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .wheelUp))
                case 3: return .mouse(MouseEvent(x: Int(x), y: Int(y), kind: .wheelDown))
                default: return nil
                }
            default: return nil
            }
        }
        guard result == OK else { return nil }
        switch character {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        default:
            guard let scalar = Unicode.Scalar(UInt32(character)) else { return nil }
            return .character(Character(scalar))
        }
    }

    public func copyToClipboard(_ text: String) -> Bool {
        // OSC 52 to the terminal itself: it reaches the local clipboard over SSH and through tmux
        // (`set-clipboard on`); ncurses has flushed its own output by now, so nothing interleaves.
        let sequence = "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
        let bytes = Array(sequence.utf8)
        return bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) } == bytes.count
    }

    public func suspended(_ body: () -> Void) {
        def_prog_mode()
        endwin()
        body()
        reset_prog_mode()
        refresh()
    }

    public func close() {
        guard !closed else { return }
        closed = true
        endwin()
    }

    deinit { close() }
}
