"""Validate and clean uploaded images: decided by content (never the file name), then re-encoded without metadata.

Pure functions over bytes; no storage or database. ``clean_image`` is the only entry point the services use.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import BinaryIO

from django.core.exceptions import ValidationError
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_PIXELS = 40_000_000

# Pillow format name -> (content type, file extension, save options)
FORMATS: dict[str, tuple[str, str, dict]] = {
    "JPEG": ("image/jpeg", "jpg", {"quality": 92}),
    "PNG": ("image/png", "png", {}),
    "WEBP": ("image/webp", "webp", {"quality": 92}),
}
CONTENT_TYPES = {content_type: fmt for fmt, (content_type, _, _) in FORMATS.items()}
_ALLOWED = "Upload a JPEG, PNG or WEBP photo."


class ImageRejected(ValidationError):
    """An upload that is not an acceptable image. ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__({"file": [ValidationError(message, code=code)]})
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    width: int
    height: int
    format: str  # "JPEG" | "PNG" | "WEBP"
    content_type: str
    ext: str
    sha256: str


def read_limited(file: BinaryIO | bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read at most ``max_bytes`` (+1 to notice more) so an oversized stream is refused without buffering it."""
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        declared = getattr(file, "size", None)
        if declared is not None and declared > max_bytes:
            raise too_large(declared, max_bytes)
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(max_bytes + 1)
    if not data:
        raise ImageRejected("empty_file", "The file is empty (0 bytes). " + _ALLOWED)
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
    return data


def too_large(size: int, max_bytes: int = MAX_UPLOAD_BYTES) -> ImageRejected:
    return ImageRejected(
        "too_large", f"The file is too large ({size:,} bytes); the limit is {max_bytes // 1048576} MB."
    )


MULTIPART_SLACK = 64 * 1024  # form boundaries and the other fields around the file


def refuse_oversized_body(meta) -> None:
    """Refuse a request whose declared body (``request.META``'s ``CONTENT_LENGTH``) cannot hold an acceptable
    upload, before anything reads or spools it."""
    try:
        length = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return
    if length > MAX_UPLOAD_BYTES + MULTIPART_SLACK:
        raise too_large(length)


def _sniff_unsupported(data: bytes) -> str | None:
    """A message naming well-known formats we refuse, so the client learns what it actually sent."""
    head = data[:512].lstrip()
    if head.startswith(b"%PDF"):
        return "This file is a PDF document, not an image."
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF images are not supported."
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC/HEIF photos are not supported; export the photo as JPEG first."
        return "This file is a video or ISO media file, not an image."
    lowered = head.lower()
    if lowered.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in lowered:
        return "SVG drawings are not accepted (they can carry scripts)."
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF images are not supported."
    return None


def _open(data: bytes, max_pixels: int) -> Image.Image:
    """Open (header only) and check format and dimensions before any pixel is decoded."""
    known = _sniff_unsupported(data)
    if known:
        raise ImageRejected("unsupported_format", f"{known} {_ALLOWED}")
    try:
        with warnings.catch_warnings():
            # Below Pillow's hard limit our own, lower limit applies (with a clearer message).
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))  # no other parser sees the bytes
    except Image.DecompressionBombError:
        raise ImageRejected(
            "too_many_pixels",
            f"The image declares far more pixels than allowed; the limit is {max_pixels // 1_000_000} megapixels.",
        ) from None
    except UnidentifiedImageError:
        raise ImageRejected(
            "unsupported_format", "This file is not a JPEG, PNG or WEBP image (checked by its content, not its name)."
        ) from None
    except (OSError, SyntaxError, ValueError):
        raise ImageRejected("corrupt_image", "The image file is damaged and cannot be read.") from None
    if image.format not in FORMATS:
        raise ImageRejected("unsupported_format", f"{image.format} images are not supported. {_ALLOWED}")
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected("corrupt_image", "The image has no pixels.")
    if width * height > max_pixels:
        raise ImageRejected(
            "too_many_pixels",
            f"The image is {width}×{height} pixels ({width * height / 1e6:.1f} megapixels); "
            f"the limit is {max_pixels // 1_000_000} megapixels.",
        )
    if getattr(image, "n_frames", 1) > 1:
        raise ImageRejected("unsupported_format", "Animated images are not supported. Upload a single still photo.")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert an embedded colour profile to sRGB, so dropping the profile keeps the colours."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        out_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: keep the pixels as they are


def _encodable(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if fmt == "JPEG":
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    if fmt == "PNG":
        if image.mode in ("RGB", "RGBA", "L", "LA"):
            return image
        return image.convert("RGBA" if has_alpha else "RGB")
    return image if image.mode in ("RGB", "RGBA") else image.convert("RGBA" if has_alpha else "RGB")


def clean_image(
    file: BinaryIO | bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_PIXELS
) -> CleanImage:
    """Validate an upload by its content and re-encode it in the same format without any metadata.

    EXIF orientation is applied first (so the pixels look as the camera meant), colour profiles are
    converted to sRGB, then EXIF/XMP/IPTC/ICC/text chunks are all dropped by re-encoding.
    Raises ``ImageRejected`` with code ``empty_file``, ``too_large``, ``unsupported_format``,
    ``too_many_pixels`` or ``corrupt_image``.
    """
    data = read_limited(file, max_bytes)
    image = _open(data, max_pixels)
    fmt = image.format
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ImageRejected(
            "corrupt_image", "The image file is damaged or incomplete (truncated) and cannot be read."
        ) from None
    image = _encodable(_to_srgb(image), fmt)
    pixels = image.copy()
    pixels.info = {}  # nothing from the original file travels into the new one
    content_type, ext, options = FORMATS[fmt]
    buffer = io.BytesIO()
    pixels.save(buffer, format=fmt, **options)
    out = buffer.getvalue()
    return CleanImage(
        data=out, width=pixels.width, height=pixels.height, format=fmt, content_type=content_type, ext=ext,
        sha256=hashlib.sha256(out).hexdigest(),
    )
