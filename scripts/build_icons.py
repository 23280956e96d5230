"""Make the installed app's PNG icons (static/img/icon-192.png, icon-512.png) with Pillow.

A white open book on the site's blue, drawn with shapes (no font needed), with a wide safe margin
so that "maskable" crops (circles, squircles) keep it whole. Output is committed; rerun after a change.
"""

from pathlib import Path

from PIL import Image, ImageDraw

BLUE, WHITE = (11, 92, 173), (255, 255, 255)
OUT = Path(__file__).resolve().parents[1] / "static" / "img"


def icon(size: int) -> Image.Image:
    image = Image.new("RGB", (size, size), BLUE)
    draw = ImageDraw.Draw(image)
    s = size / 100  # drawn on a 100×100 grid, inside the 60 % safe zone (20..80)
    draw.polygon([(22 * s, 32 * s), (48 * s, 38 * s), (48 * s, 74 * s), (22 * s, 68 * s)], fill=WHITE)
    draw.polygon([(52 * s, 38 * s), (78 * s, 32 * s), (78 * s, 68 * s), (52 * s, 74 * s)], fill=WHITE)
    for y in (46, 54, 62):  # lines of text on each page
        draw.line([(27 * s, (y - 4) * s), (43 * s, y * s)], fill=BLUE, width=max(1, round(2 * s)))
        draw.line([(57 * s, y * s), (73 * s, (y - 4) * s)], fill=BLUE, width=max(1, round(2 * s)))
    return image


if __name__ == "__main__":
    for n in (192, 512):
        icon(n).save(OUT / f"icon-{n}.png", optimize=True)
        print(OUT / f"icon-{n}.png", (OUT / f"icon-{n}.png").stat().st_size, "bytes")
