#ifndef HOOKLINE_CNCURSES_SHIM_H
#define HOOKLINE_CNCURSES_SHIM_H

// SwiftPM drops pkg-config's -D_XOPEN_SOURCE flags, which hides the wide-character API:
// define what <ncursesw/curses.h> needs before including it.
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif

#include <locale.h>
#include <wchar.h>
#include <ncursesw/curses.h>

// Swift 6 refuses to read mutable C globals and does not import these macros: wrap them.
static inline WINDOW *hl_stdscr(void) { return stdscr; }
static inline int hl_lines(void) { return LINES; }
static inline int hl_cols(void) { return COLS; }
static inline int hl_colors(void) { return COLORS; }
static inline int hl_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t hl_a_normal(void) { return A_NORMAL; }
static inline attr_t hl_a_bold(void) { return A_BOLD; }
static inline attr_t hl_a_dim(void) { return A_DIM; }
static inline attr_t hl_a_reverse(void) { return A_REVERSE; }
static inline attr_t hl_a_underline(void) { return A_UNDERLINE; }
static inline int hl_key_code_yes(void) { return KEY_CODE_YES; }

/// Reports clicks and wheel turns as KEY_MOUSE; a press counts as a click at once.
static inline void hl_mouse_on(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}

/// The pending mouse event after KEY_MOUSE: kind 1 click, 2 wheel up, 3 wheel down, 0 anything else.
static inline int hl_get_mouse(int *x, int *y) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *x = event.x;
    *y = event.y;
    if (event.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    if (event.bstate & BUTTON4_PRESSED) return 2;
    if (event.bstate & BUTTON5_PRESSED) return 3;
    return 0;
}

/// Writes a grapheme cluster (NUL-terminated, up to CCHARW_MAX wide characters) at the cursor.
static inline int hl_add_cluster(const wchar_t *text, attr_t attributes, short pair) {
    cchar_t cell;
    if (setcchar(&cell, text, attributes, pair, NULL) != OK) return ERR;
    return add_wch(&cell);
}

#endif
