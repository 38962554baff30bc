"""Provenance on every output: IPTC DigitalSourceType in XMP, and an optional visible "AI 생성" mark.

The XMP packet goes into the PNG's ``iTXt`` chunk keyed ``XML:com.adobe.xmp`` (the standard
place readers such as exiftool and Adobe tools look).
"""

from __future__ import annotations

import io
import os
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw, ImageFont, PngImagePlugin

from gpu_worker.spec import JPEG_QUALITY, LABEL_POSITIONS, LABEL_SIZES, LABEL_TEXTS

XMP_KEY = "XML:com.adobe.xmp"
# Hangul needs a CJK font: the GPU image installs fonts-nanum; GASANG_LABEL_FONT overrides.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
)


def xmp_packet(*, source_type: str, job_id: str, engine: str, engine_version: str) -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:gasang="https://gasang.ai/ns/1.0/"'
        f' Iptc4xmpExt:DigitalSourceType="{escape(source_type)}"'
        ' xmp:CreatorTool="Gasang"'
        f' gasang:JobId="{escape(job_id)}"'
        f' gasang:Engine="{escape(engine)}"'
        f' gasang:EngineVersion="{escape(engine_version)}"/>'
        "</rdf:RDF></x:xmpmeta>"
        '<?xpacket end="r"?>'
    )


def _label_font(size: int, text: str = "ai") -> tuple[ImageFont.ImageFont, str]:
    korean, latin = LABEL_TEXTS.get(text, LABEL_TEXTS["ai"])
    for path in (os.environ.get("GASANG_LABEL_FONT"), *FONT_CANDIDATES):
        if path and os.path.exists(path):
            return ImageFont.truetype(path, size), korean
    return ImageFont.load_default(size), latin  # no CJK font installed: say it in Latin letters


def add_visible_label(image: np.ndarray, *, text: str = "ai", position: str = "bottom-right",
                      size: str = "small") -> np.ndarray:
    """A legible corner mark scaled to the image: ``text``, ``position`` and ``size`` are the store's choices
    (gpu_worker.spec.LABEL_*); unknown values fall back to the defaults, never to no mark."""
    canvas = Image.fromarray(image).convert("RGB")
    width, height = canvas.size
    px = max(12, round(min(width, height) * LABEL_SIZES.get(size, LABEL_SIZES["small"])))
    font, words = _label_font(px, text)
    draw = ImageDraw.Draw(canvas, "RGBA")
    left, top, right, bottom = draw.textbbox((0, 0), words, font=font)
    pad = max(4, px // 3)
    box_w, box_h = right - left + 2 * pad, bottom - top + 2 * pad
    position = position if position in LABEL_POSITIONS else "bottom-right"
    x0 = width - box_w - pad if position.endswith("right") else pad
    y0 = height - box_h - pad if position.startswith("bottom") else pad
    draw.rounded_rectangle((x0, y0, x0 + box_w, y0 + box_h), radius=pad, fill=(0, 0, 0, 150))
    draw.text((x0 + pad - left, y0 + pad - top), words, font=font, fill=(255, 255, 255, 255))
    return np.asarray(canvas)


def add_watermark(image: np.ndarray) -> np.ndarray:
    """The free plan's small, semi-transparent "Gasang" mark in the top-left corner."""
    canvas = Image.fromarray(image).convert("RGB")
    size = max(10, round(min(canvas.size) * 0.03))
    font = ImageFont.load_default(size)
    draw = ImageDraw.Draw(canvas, "RGBA")
    margin = max(4, size // 2)
    draw.text((margin + 1, margin + 1), "Gasang", font=font, fill=(0, 0, 0, 90))
    draw.text((margin, margin), "Gasang", font=font, fill=(255, 255, 255, 150))
    return np.asarray(canvas)


def encode_png(image: np.ndarray, xmp: str) -> bytes:
    """PNG bytes of an RGB uint8 image with the XMP packet embedded."""
    info = PngImagePlugin.PngInfo()
    info.add_itxt(XMP_KEY, xmp, zip=False)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", pnginfo=info, optimize=False, compress_level=6)
    return buffer.getvalue()


def encode(image: np.ndarray, xmp: str, mime: str) -> bytes:
    """PNG, JPEG or WebP bytes (quality JPEG_QUALITY) of an RGB uint8 image with the XMP packet embedded."""
    if mime == "image/png":
        return encode_png(image, xmp)
    formats = {"image/jpeg": "JPEG", "image/webp": "WEBP"}
    if mime not in formats:
        raise ValueError(f"no encoder for {mime!r}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=formats[mime], xmp=xmp.encode(), quality=JPEG_QUALITY)
    return buffer.getvalue()


def read_xmp(png: bytes) -> str | None:
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        return image.text.get(XMP_KEY) if hasattr(image, "text") else None
