#ifndef CNCURSESW_SHIM_H
#define CNCURSESW_SHIM_H
/* Ask for the wide-character API explicitly (pkg-config's -D_XOPEN_SOURCE is not passed by SwiftPM). */
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <ncursesw/curses.h>
#include <locale.h>
#include <wchar.h>

/* C globals and attribute macros are not importable (or not concurrency-safe) in Swift 6: re-export them. */
static inline WINDOW *icestat_stdscr(void) { return stdscr; }
static inline int icestat_lines(void) { return LINES; }
static inline int icestat_cols(void) { return COLS; }
static inline attr_t icestat_a_normal(void) { return A_NORMAL; }
static inline attr_t icestat_a_bold(void) { return A_BOLD; }
static inline attr_t icestat_a_dim(void) { return A_DIM; }
static inline attr_t icestat_a_reverse(void) { return A_REVERSE; }
static inline attr_t icestat_a_underline(void) { return A_UNDERLINE; }
static inline attr_t icestat_color_pair(short n) { return (attr_t)COLOR_PAIR(n); }
#endif
