"""Print tiles and thumbnails of image evidence, made once per source hash.

A full-page screenshot is often 1920 x 5000 px or taller. On paper it must stay whole
and legible, so it is cut into landscape-page-shaped tiles at a readable width, each
overlapping the last a little, rather than shrunk onto one page or clipped.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from PIL import Image, ImageOps

from evidence.models import Blob, Rendition, RenditionKind
from evidence.services import blob_ingest, evidence_storage

logger = logging.getLogger(__name__)

IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif", "image/bmp", "image/tiff"}
# 1600 px across an A4 landscape page is about 150 dpi: screen text stays readable.
PRINT_WIDTH = 1600
# Height of a tile for that width: the shape of the page's image area (about 267 x 180 mm).
TILE_HEIGHT = 1080
OVERLAP = 60
# More pages than this for one image helps nobody: such an image is scaled down to fit.
MAX_TILES = 40
THUMB_SIZE = (480, 480)
JPEG_QUALITY = 82


@dataclass(frozen=True)
class TilePlan:
    scaled_width: int
    scaled_height: int
    # (top, bottom) rows of each tile in the scaled image
    bands: tuple[tuple[int, int], ...]


def plan_tiles(width: int, height: int) -> TilePlan:
    """Where to cut an image of this size (pure arithmetic, so tests and the bench can ask).

    Bands are spread evenly, so there is no thin last strip on a page of its own; a band
    may be up to a tenth taller than ``TILE_HEIGHT`` rather than start another page.
    """
    scale = min(1.0, PRINT_WIDTH / width)
    longest = MAX_TILES * (TILE_HEIGHT - OVERLAP) + OVERLAP
    if height * scale > longest:
        scale = longest / height
    scaled_w, scaled_h = max(1, round(width * scale)), max(1, round(height * scale))
    count = max(1, math.ceil((scaled_h - OVERLAP) / (TILE_HEIGHT - OVERLAP) - 0.1))
    band = math.ceil((scaled_h + (count - 1) * OVERLAP) / count)
    bands = []
    for index in range(count):
        top = index * (band - OVERLAP)
        bottom = scaled_h if index == count - 1 else min(top + band, scaled_h)
        bands.append((top, bottom))
    return TilePlan(scaled_w, scaled_h, tuple(bands))


def _open(blob: Blob) -> Image.Image:
    with evidence_storage().open(blob.storage_name, "rb") as handle:
        image: Image.Image = Image.open(io.BytesIO(handle.read()))
        if image.width * image.height > settings.EVIDENCE_MAX_IMAGE_PIXELS:
            raise ValueError(f"{image.width} x {image.height} px is more than this server decodes")
        image.load()
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # Transparent areas print white, as on screen, not black.
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _store(image: Image.Image, source: Blob, kind: str, index: int) -> None:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    out.seek(0)
    # A savepoint: another worker may have made the same rendition meanwhile (same bytes, same hash).
    with blob_ingest(source=out) as stored, contextlib.suppress(IntegrityError), transaction.atomic():
        Rendition.objects.create(
            source=source, kind=kind, index=index, width=image.width, height=image.height, blob=stored
        )


def renditions_prepare(*, blob: Blob) -> bool:
    """Make the thumbnail and print tiles of an image blob; False for anything else.

    Idempotent: kinds already present are kept. A corrupt or over-large image is logged
    and gets no renditions (its original stays evidence, listed in documents).
    """
    if blob.mime_type not in IMAGE_TYPES:
        return False
    have = set(Rendition.objects.filter(source=blob).values_list("kind", "index"))
    tiles = {index for kind, index in have if kind == RenditionKind.PRINT_TILE}
    # Complete only when every planned tile exists: a job cut short leaves some, never "done".
    if (RenditionKind.THUMBNAIL, 0) in have and tiles and tiles == set(range(_planned(blob))):
        return True
    try:
        image = _open(blob)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        logger.warning("no renditions for %s: %s", blob.sha256, error)
        return False
    if (RenditionKind.THUMBNAIL, 0) not in have:
        thumb = image.copy()
        thumb.thumbnail(THUMB_SIZE)
        _store(thumb, blob, RenditionKind.THUMBNAIL, 0)
    plan = plan_tiles(image.width, image.height)
    missing = [index for index in range(len(plan.bands)) if index not in tiles]
    if missing:
        scaled = image
        if plan.scaled_width != image.width:
            scaled = image.resize((plan.scaled_width, plan.scaled_height), Image.Resampling.LANCZOS)
        for index in missing:
            top, bottom = plan.bands[index]
            _store(scaled.crop((0, top, plan.scaled_width, bottom)), blob, RenditionKind.PRINT_TILE, index)
    return True


def _planned(blob: Blob) -> int:
    """How many tiles the image needs, read from its header alone (no decoding)."""
    with evidence_storage().open(blob.storage_name, "rb") as handle, Image.open(handle) as image:
        width, height = image.size
        # Only JPEG, TIFF and WebP carry EXIF in their header; asking a PNG decodes all of it.
        turned = image.format in {"JPEG", "TIFF", "WEBP"} and image.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        if turned:  # a quarter turn by its EXIF orientation
            width, height = height, width
    return len(plan_tiles(width, height).bands)
