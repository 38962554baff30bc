"""Real image files (and real non-images) built in memory for the upload tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

ORIENTATION, GPS_IFD, MAKE = 0x0112, 0x8825, 0x010F


def photo(fmt: str = "JPEG", size: tuple[int, int] = (64, 32), **save) -> bytes:
    """A small two-colour photo: left half red, right half blue (so a rotation is visible)."""
    image = Image.new("RGB", size, (220, 20, 20))
    image.paste((20, 20, 220), (size[0] // 2, 0, size[0], size[1]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def jpeg_from_phone(size: tuple[int, int] = (64, 32)) -> bytes:
    """A JPEG as a phone writes it: pixels stored sideways with orientation 6, camera make and GPS position."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6  # rotate 90° clockwise to display
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (37.0, 33.0, 59.0), 3: "E", 4: (126.0, 58.0, 41.0)}
    return photo("JPEG", size, exif=exif.tobytes(), comment=b"shot at home")


def png_with_text() -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Author", "Jane Doe, 010-1234-5678")
    return photo("PNG", pnginfo=info)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bomb(width: int = 10_000, height: int = 10_000) -> bytes:
    """A few hundred bytes whose header declares width×height pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    data = photo("JPEG", (256, 256))
    return data[: len(data) // 2]


SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(1)</script></svg>")
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200
GARBAGE = b"this is not a picture at all, just text saved as photo.jpg\n" * 10
