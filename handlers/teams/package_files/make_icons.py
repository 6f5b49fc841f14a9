"""Draw the Teams app icons (`color.png` 192x192, `outline.png` 32x32) with the standard library.

A person stretching, arms up: white on teal for the colour icon, white on transparent for the
outline icon (Teams requires the outline icon to be white and transparent only). The PNGs are
committed; run `python handlers/teams/package_files/make_icons.py` to redraw them. This script
is not shipped: only the manifest template and the two PNGs are package data.
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

TEAL = (0x12, 0x7A, 0x6B)
WHITE = (0xFF, 0xFF, 0xFF)

# The figure on a 192-unit canvas: segments (x1, y1, x2, y2) and the head (x, y, r).
SEGMENTS = (
    (96, 72, 96, 124),  # body
    (96, 84, 60, 40),  # left arm, up
    (96, 84, 132, 40),  # right arm, up
    (96, 124, 70, 166),  # left leg
    (96, 124, 122, 166),  # right leg
)
HEAD = (96, 50, 15)
STROKE = 13.0  # line width on the 192-unit canvas


def png(width: int, height: int, rgba: bytes) -> bytes:
    """A minimal, valid RGBA PNG (8 bits per channel, no interlace)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    stride = width * 4
    raw = b"".join(b"\x00" + rgba[y * stride : (y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _segment_distance(px: float, py: float, x1: float, y1: float, x2: float, y2: float) -> float:
    dx, dy = x2 - x1, y2 - y1
    t = max(0.0, min(1.0, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (x1 + t * dx), py - (y1 + t * dy))


def figure_coverage(size: int) -> list[float]:
    """How much of each pixel the figure covers (0..1), anti-aliased, for a `size` square."""
    scale = size / 192
    half = max(STROKE * scale / 2, 1.0)
    hx, hy, hr = (value * scale for value in HEAD)
    coverage = []
    for y in range(size):
        for x in range(size):
            px, py = x + 0.5, y + 0.5
            distance = min(
                _segment_distance(px, py, *(v * scale for v in segment)) for segment in SEGMENTS
            )
            head = math.hypot(px - hx, py - hy) - hr
            coverage.append(
                max(
                    min(1.0, max(0.0, half + 0.5 - distance)),
                    min(1.0, max(0.0, 0.5 - head)),
                )
            )
    return coverage


def color_icon(size: int = 192) -> bytes:
    pixels = bytearray()
    for amount in figure_coverage(size):
        pixels += bytes(round(b + (w - b) * amount) for b, w in zip(TEAL, WHITE, strict=True))
        pixels.append(0xFF)
    return png(size, size, bytes(pixels))


def outline_icon(size: int = 32) -> bytes:
    pixels = bytearray()
    for amount in figure_coverage(size):
        pixels += bytes(WHITE) + bytes([round(255 * amount)])
    return png(size, size, bytes(pixels))


def main() -> None:
    here = Path(__file__).resolve().parent
    (here / "color.png").write_bytes(color_icon())
    (here / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
