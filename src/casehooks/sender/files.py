"""Fake file bytes that look like real uploads: a valid PNG or PDF header, then random filler. Pure."""

from __future__ import annotations

import random
import struct
import zlib

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return _PNG_SIGNATURE + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def fake_file(rng: random.Random, size: int) -> tuple[str, bytes]:
    """A file name and ``size`` bytes whose start reads as a PNG image or a PDF document."""
    if rng.random() < 0.5:
        name, head = "scan.png", _png_header(rng.randint(64, 2048), rng.randint(64, 2048))
    else:
        name, head = "lab-results.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    head = head[:size]
    return name, head + rng.randbytes(size - len(head))
