"""Decode an uploaded photo safely and encode the copy we keep.

The bytes decide what a file is, never its name: we sniff JPEG/PNG/WebP/HEIC signatures (HEIC,
an iPhone's photos, is read with pillow-heif and kept as JPEG like the rest), check the
declared size against the pixel limit before any pixel is decoded (decompression bombs), fully
decode to catch truncated files, and apply EXIF orientation so landmarks match what people see.
"""

from __future__ import annotations

import io

import msgspec
import numpy as np
from PIL import Image, ImageOps

from server.errors import BadInput, TooLarge, UnsupportedMedia
from server.settings import Limits

ACCEPTED = "JPEG, PNG, WebP or HEIC"
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"}
JPEG_QUALITY = 95  # high enough that re-encoding adds no visible loss; landmarks are found on the decoded pixels


class DecodedImage(msgspec.Struct, frozen=True):
    """An upload as upright RGB pixels, plus the format it came in."""

    rgb: np.ndarray  # uint8, shape (h, w, 3)
    source_format: str  # "JPEG" | "PNG" | "WEBP" | "HEIF"

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def sniff_format(data: bytes) -> str | None:
    """The real format from the file's first bytes, or None if it is not one we accept."""
    if data[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in HEIF_BRANDS:
        return "HEIF"
    return None


def decode_image(data: bytes, limits: Limits) -> DecodedImage:
    """Validate and decode an upload; raises BadInput/TooLarge/UnsupportedMedia with a clear reason."""
    if not data:
        raise BadInput("the photo is empty (0 bytes)", hint="choose the photo again")
    if len(data) > limits.upload_bytes:
        raise TooLarge(f"the photo is {len(data) / 2**20:.1f} MiB; the limit is {limits.upload_bytes / 2**20:.0f} MiB")
    fmt = sniff_format(data)
    if fmt is None:
        raise UnsupportedMedia(f"this file is not a {ACCEPTED} image", hint="export the photo as JPEG and try again")
    # Image.open reads only the header. Pillow refuses sizes above 2x MAX_IMAGE_PIXELS there (and
    # warns above 1x); _check_size then refuses anything above our limit before a pixel is decoded.
    Image.MAX_IMAGE_PIXELS = limits.image_pixels
    if fmt == "HEIF":
        _register_heif()
    try:
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            _check_size(image.width, image.height, limits)
            image.load()  # the full decode: truncated or corrupt data fails here, not later
            upright = ImageOps.exif_transpose(image) or image
            rgb = np.asarray(_to_rgb(upright), dtype=np.uint8).copy()
    except Image.DecompressionBombError:
        raise TooLarge(
            f"the image declares more than {limits.image_pixels:,} pixels", hint="send a smaller photo"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInput(
            f"the {fmt} image is damaged or incomplete ({exc})", hint="the upload may have been cut off; send it again"
        ) from None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise BadInput("the image could not be read as colour pixels")
    return DecodedImage(rgb=rgb, source_format=fmt)


def _register_heif() -> None:
    try:
        import pillow_heif
    except ImportError:
        raise UnsupportedMedia(
            "this server cannot read HEIC photos", hint="on the iPhone, share the photo as JPEG (Most Compatible)"
        ) from None
    pillow_heif.register_heif_opener()


def _check_size(width: int, height: int, limits: Limits) -> None:
    if width <= 0 or height <= 0:
        raise BadInput("the image has no pixels")
    if width * height > limits.image_pixels:
        raise TooLarge(
            f"the image is {width}x{height} = {width * height:,} pixels; the limit is {limits.image_pixels:,}",
            hint="send a smaller photo",
        )
    if min(width, height) < limits.image_min_side:
        raise BadInput(
            f"the image is only {width}x{height}; each side needs at least {limits.image_min_side} pixels",
            hint="send a larger photo where the face is clearly visible",
        )


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white (a cut-out portrait should not turn black)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def encode_for_storage(rgb: np.ndarray) -> tuple[bytes, str]:
    """The copy we keep: high-quality JPEG without EXIF (no GPS or camera data kept); returns (bytes, suffix)."""
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
    return out.getvalue(), ".jpg"
