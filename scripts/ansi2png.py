#!/usr/bin/env python3
"""Render a terminal capture (tmux capture-pane -p -e) to a PNG: pyte emulates the screen, Pillow draws the cells.

usage: ansi2png.py IN.ansi OUT.png COLUMNS ROWS
"""
import sys

import pyte
from PIL import Image, ImageDraw, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SIZE = 15
# A dark palette close to common terminal defaults; "default" is the terminal's own fg/bg.
PALETTE = {
    "default_fg": (220, 220, 220), "default_bg": (24, 26, 31),
    "black": (40, 42, 46), "red": (224, 108, 117), "green": (152, 195, 121), "yellow": (229, 192, 123),
    "brown": (229, 192, 123), "blue": (97, 175, 239), "magenta": (198, 120, 221), "cyan": (86, 182, 194), "white": (220, 223, 228),
    "brightblack": (92, 99, 112), "brightred": (240, 113, 120), "brightgreen": (166, 226, 46),
    "brightyellow": (255, 203, 107), "brightblue": (130, 170, 255), "brightmagenta": (199, 146, 234),
    "brightcyan": (137, 221, 255), "brightwhite": (255, 255, 255),
}


def color(name, default):
    if name == "default":
        return PALETTE[default]
    if name in PALETTE:
        return PALETTE[name]
    if len(name) == 6:
        try:
            return tuple(int(name[i:i + 2], 16) for i in (0, 2, 4))
        except ValueError:
            pass
    return PALETTE[default]


def main():
    src, dst, cols, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data = open(src, "rb").read()
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)
    # Without the rstrip the last newline would scroll the first row away.
    stream.feed(data.rstrip(b"\n").replace(b"\n", b"\r\n"))
    regular = ImageFont.truetype(FONT_DIR + "DejaVuSansMono.ttf", SIZE)
    bold = ImageFont.truetype(FONT_DIR + "DejaVuSansMono-Bold.ttf", SIZE)
    left, top, right, bottom = regular.getbbox("M")
    cw = int(regular.getlength("M"))
    ch = int(SIZE * 1.35)
    pad = 10
    img = Image.new("RGB", (cols * cw + 2 * pad, rows * ch + 2 * pad), PALETTE["default_bg"])
    draw = ImageDraw.Draw(img)
    for y in range(rows):
        line = screen.buffer[y]
        cells = [line[x] for x in range(cols)]
        # tmux's capture drops trailing blanks, so a bar drawn to the row's end comes back short: extend it.
        last = max((x for x in range(cols) if cells[x].data.strip() or cells[x].reverse or cells[x].bg != "default"), default=-1)
        if 0 <= last < cols - 1 and (cells[last].reverse or cells[last].bg != "default") and cells[0].reverse == cells[last].reverse:
            cells[last + 1:] = [cells[last]._replace(data=" ")] * (cols - last - 1)
        for x in range(cols):
            cell = cells[x]
            fg = color(cell.fg, "default_fg")
            bg = color(cell.bg, "default_bg")
            if cell.reverse:
                fg, bg = bg, fg
            px, py = pad + x * cw, pad + y * ch
            if bg != PALETTE["default_bg"]:
                draw.rectangle([px, py, px + cw - 1, py + ch - 1], fill=bg)
            if cell.data.strip():
                draw.text((px, py + 2), cell.data, font=bold if cell.bold else regular, fill=fg)
            if cell.underscore:
                draw.line([px, py + ch - 2, px + cw - 1, py + ch - 2], fill=fg)
    img.save(dst)


if __name__ == "__main__":
    main()
