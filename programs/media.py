"""An exercise's own picture or short video, uploaded by staff: which files are accepted.

A file is taken by what its first bytes say it is, not only by its name, so a renamed file of
another kind is refused. No image library is needed for that: each accepted format opens with
a fixed signature.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

IMAGE = "image"
VIDEO = "video"

# Extension -> (kind, a test of the file's first 16 bytes).
FORMATS = {
    "png": (IMAGE, lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    "jpg": (IMAGE, lambda head: head.startswith(b"\xff\xd8\xff")),
    "jpeg": (IMAGE, lambda head: head.startswith(b"\xff\xd8\xff")),
    "webp": (IMAGE, lambda head: head[:4] == b"RIFF" and head[8:12] == b"WEBP"),
    "mp4": (VIDEO, lambda head: head[4:8] == b"ftyp"),
    "webm": (VIDEO, lambda head: head.startswith(b"\x1a\x45\xdf\xa3")),
}
ACCEPT = ",".join(f".{ext}" for ext in FORMATS)


def kind_of(name: str) -> str:
    """image or video, from a stored file's name ("" for anything else)."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return FORMATS[extension][0] if extension in FORMATS else ""


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".removesuffix(".0")


def check(name: str, size: int, head: bytes) -> str:
    """The file's kind when it may be uploaded; a ValidationError saying why not otherwise."""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        raise ValidationError(
            "Upload a picture (PNG, JPEG or WebP) or a short video (MP4 or WebM).",
            code="type",
        )
    kind, looks_right = FORMATS[extension]
    if not looks_right(head):
        raise ValidationError(
            f"This file is named .{extension} but is not a {extension.upper()} file. "
            "Save or export it again in that format.",
            code="content",
        )
    limit = (
        settings.EXERCISE_IMAGE_MAX_BYTES if kind == IMAGE else settings.EXERCISE_VIDEO_MAX_BYTES
    )
    if size > limit:
        what = "A picture" if kind == IMAGE else "A video"
        raise ValidationError(
            f"This file is {_megabytes(size)} MB. {what} can be at most {_megabytes(limit)} MB: "
            + (
                "make it smaller or save it as JPEG or WebP."
                if kind == IMAGE
                else "trim it to the exercise itself or export it at a lower quality."
            ),
            code="size",
        )
    return kind


def check_upload(file) -> str:
    """check() for an uploaded file: reads only its first bytes."""
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    return check(file.name, file.size, head)
