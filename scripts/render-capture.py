#!/usr/bin/env python3
"""Render a `tmux capture-pane -e -p` capture (text with SGR colours) to PNG.

Used by scripts/screenshot for the README's pictures; needs Pillow and the
DejaVu Sans Mono font (Debian: fonts-dejavu-core).
usage: render-capture.py CAPTURE.ansi OUT.png
"""
import re
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
BOLD = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
SIZE = 15
FG, BG = (220, 220, 220), (24, 24, 28)
ANSI16 = [
    (0, 0, 0), (205, 49, 49), (13, 188, 121), (229, 229, 16),
    (36, 114, 200), (188, 63, 188), (17, 168, 205), (229, 229, 229),
    (102, 102, 102), (241, 76, 76), (35, 209, 139), (245, 245, 67),
    (59, 142, 234), (214, 112, 214), (41, 184, 219), (255, 255, 255),
]


def xterm256(n):
    if n < 16:
        return ANSI16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return (v, v, v)


def parse_sgr(params, st):
    ps = [int(p) if p.isdigit() else 0 for p in re.split("[;:]", params)] or [0]
    i = 0
    while i < len(ps):
        p = ps[i]
        if p == 0:
            st.update(fg=None, bg=None, bold=False, rev=False)
        elif p == 1:
            st["bold"] = True
        elif p == 22:
            st["bold"] = False
        elif p == 7:
            st["rev"] = True
        elif p == 27:
            st["rev"] = False
        elif 30 <= p <= 37:
            st["fg"] = ANSI16[p - 30]
        elif 90 <= p <= 97:
            st["fg"] = ANSI16[p - 90 + 8]
        elif 40 <= p <= 47:
            st["bg"] = ANSI16[p - 40]
        elif 100 <= p <= 107:
            st["bg"] = ANSI16[p - 100 + 8]
        elif p == 39:
            st["fg"] = None
        elif p == 49:
            st["bg"] = None
        elif p in (38, 48) and i + 1 < len(ps):
            key = "fg" if p == 38 else "bg"
            if ps[i + 1] == 5 and i + 2 < len(ps):
                st[key] = xterm256(ps[i + 2])
                i += 2
            elif ps[i + 1] == 2 and i + 4 < len(ps):
                st[key] = tuple(ps[i + 2:i + 5])
                i += 4
        i += 1


def main():
    src, out = sys.argv[1], sys.argv[2]
    lines = open(src, encoding="utf-8", errors="replace").read().rstrip("\n").split("\n")
    font, bold = ImageFont.truetype(FONT, SIZE), ImageFont.truetype(BOLD, SIZE)
    cw = font.getlength("M")
    ch = SIZE + 4
    cols = 0
    cells = []
    for line in lines:
        st = dict(fg=None, bg=None, bold=False, rev=False)
        row = []
        for tok in re.split(r"(\x1b\[[0-9;:]*[A-Za-z])", line):
            if tok.startswith("\x1b["):
                if tok.endswith("m"):
                    parse_sgr(tok[2:-1], st)
                continue
            for c in tok:
                row.append((c, dict(st)))
        cols = max(cols, len(row))
        cells.append(row)
    img = Image.new("RGB", (int(cols * cw) + 16, len(cells) * ch + 16), BG)
    d = ImageDraw.Draw(img)
    for y, row in enumerate(cells):
        for x, (c, st) in enumerate(row):
            fg, bg = st["fg"] or FG, st["bg"] or BG
            if st["rev"]:
                fg, bg = bg, fg
            px, py = 8 + round(x * cw), 8 + y * ch
            if bg != BG:
                d.rectangle([px, py, px + round(cw), py + ch], fill=bg)
            if c != " ":
                d.text((px, py + 1), c, font=bold if st["bold"] else font, fill=fg)
    img.save(out)


if __name__ == "__main__":
    main()
