"""What an uploaded file must be before it is stored: refused with a clear reason otherwise.

Stored evidence is only ever served as a download, but people open downloads, and
thumbnails and dossiers decode images: so polyglots, bombs and files that are not what
their name or kind says are turned away at the door, before a byte is kept.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.utils.translation import gettext as _
from PIL import Image

from evidence.errors import StorageUnavailable, field_error

RASTER_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}
ZIP_TYPES = {
    "application/zip",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
# An archive may claim at most this many times its own size once unpacked, and this many entries.
ZIP_MAX_RATIO = 100
ZIP_MAX_ENTRIES = 10_000


def upload_content_check(*, path: Path, mime_type: str, size: int, name: str, images_only: bool) -> None:
    """Refuse content that is not what it claims, or that would explode when opened."""
    if mime_type == "image/svg+xml":
        raise field_error("file", _("SVG images can carry scripts; upload a PNG or JPEG instead."), "svg_refused")
    if images_only and mime_type not in RASTER_TYPES:
        message = _("Screenshots and photos must be PNG, JPEG, WebP or GIF images; this file is %(type)s.")
        raise field_error("file", message % {"type": mime_type}, "not_an_image")
    if Path(name).suffix.lower() in IMAGE_EXTENSIONS and not mime_type.startswith("image/"):
        message = _("The file is named as an image but holds %(type)s.")
        raise field_error("file", message % {"type": mime_type}, "type_mismatch")
    if mime_type in RASTER_TYPES:
        _image_check(path, mime_type)
    if mime_type in ZIP_TYPES:
        _archive_check(path, size)


def _image_check(path: Path, mime_type: str) -> None:
    too_many = _("The image has more pixels than this server opens (a decompression bomb?).")
    try:
        with Image.open(path) as image:  # reads the header only
            width, height = image.size
            image.verify()  # walks the chunks and their checksums without decoding pixels
    except Image.DecompressionBombError:
        raise field_error("file", too_many, "too_many_pixels") from None
    except (OSError, ValueError, SyntaxError):
        raise field_error("file", _("The image cannot be read; it may be damaged."), "bad_image") from None
    if width * height > settings.EVIDENCE_MAX_IMAGE_PIXELS:
        raise field_error("file", too_many, "too_many_pixels")
    if mime_type == "image/png":
        with open(path, "rb") as handle:
            handle.seek(-len(PNG_END), 2)
            if handle.read() != PNG_END:
                message = _("The PNG has other data after its end; save the screenshot again as a plain PNG.")
                raise field_error("file", message, "trailing_data")


def _archive_check(path: Path, size: int) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise field_error("file", _("The archive cannot be read; it may be damaged."), "bad_archive") from None
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > ZIP_MAX_ENTRIES or unpacked > max(size, 1) * ZIP_MAX_RATIO:
        message = _("The archive would unpack to far more than its size; it is refused as a likely zip bomb.")
        raise field_error("file", message, "zip_bomb")


class StagingUploadHandler(TemporaryFileUploadHandler):
    """Django's spooling of large uploads, next to the evidence store: when that disk fails
    (it is full, say), the partly written file is removed at once, not whenever the garbage
    collector gets to it, and the error says the store cannot take files."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        try:
            self.file.write(raw_data)
        except OSError as error:
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            if error.errno in StorageUnavailable.ERRNOS:
                raise StorageUnavailable(error) from error
            raise
