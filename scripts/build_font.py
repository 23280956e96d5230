"""Build the one WOFF2 per weight the pages load: Be Vietnam Pro cut to what Vietnamese text needs.

The source is the three unicode-range files Fontsource publishes per weight (latin, latin-ext,
vietnamese; kept in static/fonts/source/, OFL). A page in Vietnamese fetched all three for each of
two weights: six files, 98 KB, most of a page's weight. This merges them (fontTools.merge) and keeps
only the characters the site's text uses — ASCII, Latin-1 punctuation and letters, Vietnamese
letters (precomposed: every input is NFC-normalised) and common typographic marks — without
hinting and without OpenType layout (kerning and mark positioning; precomposed letters need no mark
placement, and the system font stack takes over for anything outside the set).

Run after changing the character set or the source files; the output is committed:

    .venv/bin/python scripts/build_font.py
"""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "static" / "fonts" / "source"
OUTPUT = ROOT / "static" / "fonts"
WEIGHTS = (400, 700)
PARTS = ("latin", "latin-ext", "vietnamese")

VIETNAMESE = "ĂăĐđĨĩŨũƠơƯư" + "".join(chr(code) for code in range(0x1EA0, 0x1EFA))
# The printable ASCII, Latin-1 (for names like Đoàn, José, and ©, ×, ·), Vietnamese letters and the
# punctuation the pages print: dashes, quotes, ellipsis, bullet, ₫, €, ™, minus. (The font has no
# arrows: "→" comes from the system font.)
UNICODES = sorted(
    set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | {ord(c) for c in VIETNAMESE}
    | {0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2026, 0x2039, 0x203A, 0x20AB, 0x20AC,
       0x2122, 0x2212}
)
# The @font-face unicode-range that matches UNICODES (keep the two in step; app.css uses it).
UNICODE_RANGE = "U+20-7E,U+A0-FF,U+102-103,U+110-111,U+128-129,U+168-169,U+1A0-1A1,U+1AF-1B0," \
                "U+1EA0-1EF9,U+2013-2014,U+2018-2019,U+201C-201D,U+2022,U+2026,U+2039-203A,U+20AB-20AC," \
                "U+2122,U+2212"


def build(weight: int) -> Path:
    merged = Merger().merge([str(SOURCE / f"be-vietnam-pro-{part}-{weight}-normal.woff2") for part in PARTS])
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.name_IDs = [1, 2]
    options.notdef_outline = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=UNICODES)
    subsetter.subset(merged)
    target = OUTPUT / f"be-vietnam-pro-vi-{weight}.woff2"
    subset.save_font(merged, str(target), options)
    return target


def main() -> int:
    for weight in WEIGHTS:
        target = build(weight)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
