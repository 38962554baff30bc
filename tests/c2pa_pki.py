"""C2PA helpers for the tests: throwaway signers (gpu_worker/tools/dev_certificate.py), and a
one-byte edit of an image's compressed pixels that leaves a well-formed file (and its manifest) behind."""

from __future__ import annotations

import functools
import struct
import tempfile
import zlib
from pathlib import Path

from gpu_worker.tools.dev_certificate import make_pki


def edit_pixels(data: bytes, mime: str) -> bytes:
    """Change one byte of the compressed pixels, leaving a well-formed file (and its manifest) behind."""
    if mime == "image/png":
        at = data.index(b"IDAT") - 4
        (length,) = struct.unpack(">I", data[at:at + 4])
        body = bytearray(data[at + 4:at + 8 + length])
        body[4 + length // 2] ^= 0x01
        crc = struct.pack(">I", zlib.crc32(bytes(body)) & 0xFFFFFFFF)
        return data[:at + 4] + bytes(body) + crc + data[at + 12 + length:]
    sos = data.index(b"\xff\xda")
    (header,) = struct.unpack(">H", data[sos + 2:sos + 4])
    at = sos + 2 + header + 200
    while data[at] in (0xFF, 0xFE) or data[at - 1] == 0xFF:
        at += 1
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


@functools.cache
def stack_pki() -> dict:
    """One throwaway CA + signer for this test run's worker stacks (tests/stack.py gives the GPU worker its paths)."""
    return make_pki(Path(tempfile.mkdtemp(prefix="gasang-c2pa-")), "test-operator")
