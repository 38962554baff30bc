"""The image check decides by content, keeps the pixels as the camera meant them, and drops every metadata block."""

import io

import pytest
from PIL import Image, ImageCms

from catalog.images import ImageRejected, clean_image
from tests.catalog import sample_images


def reopen(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_cmyk_jpeg_with_a_colour_profile_becomes_plain_srgb_without_the_profile():
    buffer = io.BytesIO()
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, "JPEG", icc_profile=profile)

    cleaned = clean_image(buffer.getvalue())
    cmyk = io.BytesIO()
    Image.new("CMYK", (8, 8), (0, 200, 200, 0)).save(cmyk, "JPEG")

    assert "icc_profile" not in reopen(cleaned.data).info
    assert reopen(clean_image(cmyk.getvalue()).data).mode == "RGB"


def test_a_palette_png_with_transparency_keeps_its_transparency():
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 0, 0, 0, 0, 255])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)

    cleaned = reopen(clean_image(buffer.getvalue()).data)

    assert cleaned.mode == "RGBA" and cleaned.getpixel((0, 0))[3] == 0


def test_the_result_reports_size_format_and_a_content_hash():
    import hashlib

    cleaned = clean_image(sample_images.photo("PNG", (40, 30)))

    assert (cleaned.width, cleaned.height, cleaned.format, cleaned.content_type, cleaned.ext) == (
        40, 30, "PNG", "image/png", "png")
    assert cleaned.sha256 == hashlib.sha256(cleaned.data).hexdigest()


def test_an_animated_webp_is_refused():
    frames = [Image.new("RGB", (8, 8), c) for c in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "WEBP", save_all=True, append_images=frames[1:])

    with pytest.raises(ImageRejected) as rejected:
        clean_image(buffer.getvalue())

    assert rejected.value.code == "unsupported_format" and "Animated" in rejected.value.message


def test_the_pixel_limit_is_40_megapixels_inclusive():
    with pytest.raises(ImageRejected) as over:
        clean_image(sample_images.png_bomb(8000, 5001))
    with pytest.raises(ImageRejected) as at_limit:  # passes the size check, then fails on its fake pixel data
        clean_image(sample_images.png_bomb(8000, 5000))

    assert over.value.code == "too_many_pixels" and "40 megapixels" in over.value.message
    assert at_limit.value.code == "corrupt_image"


def test_a_bomb_beyond_pillows_own_limit_gets_the_same_code():
    with pytest.raises(ImageRejected) as rejected:
        clean_image(sample_images.png_bomb(30_000, 30_000))

    assert rejected.value.code == "too_many_pixels"


def test_rejections_are_validation_errors_on_the_file_field():
    with pytest.raises(ImageRejected) as rejected:
        clean_image(b"")

    assert rejected.value.message_dict == {"file": ["The file is empty (0 bytes). Upload a JPEG, PNG or WEBP photo."]}
