"""Changing library items: create, edit, upload or replace a file (old versions kept), archive, count
downloads. Callers commit; index work follows the commit (lms.search.hooks)."""

import hashlib
import re
from pathlib import PurePosixPath

from sqlalchemy import func, select, update

from lms.core import outbox
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.markdown import render as render_markdown
from lms.core.text import fold, nfc, slugify
from lms.extensions import db
from lms.library.models import LibraryCollection, LibraryFile, LibraryItem

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
    ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".m4a": "audio/mp4",
    ".vtt": "text/vtt", ".srt": "application/x-subrip", ".txt": "text/plain",
}
MAX_FILE_BYTES = 200 * 1024 * 1024


class LibraryError(ValueError):
    """Bad input a person can fix; the message is already translated."""


def content_type_for(filename: str) -> str | None:
    return CONTENT_TYPES.get(PurePosixPath(filename.lower()).suffix)


def safe_filename(filename: str) -> str:
    stem = PurePosixPath(filename).name
    suffix = PurePosixPath(stem).suffix.lower()
    return (slugify(stem[: -len(suffix)] if suffix else stem) or "file")[:100] + suffix


def unique_slug(title: str) -> str:
    base = (slugify(title) or "item")[:100]
    slug, number = base, 2
    while db.session.scalar(select(LibraryItem.id).where(LibraryItem.slug == slug)) is not None:
        slug, number = f"{base}-{number}", number + 1
    return slug


def apply_fields(item: LibraryItem, fields: dict) -> None:
    """Metadata from a form or a front matter: strings normalised, the article rendered."""
    for name in ("title", "summary", "topic", "agency", "licence", "version", "language"):
        if name in fields:
            setattr(item, name, nfc(fields[name] or ""))
    for name in ("kind", "url", "published_on", "locality_id", "status"):
        if name in fields:
            setattr(item, name, fields[name] or None if name in ("url", "published_on", "locality_id") else fields[name])
    if "audience" in fields:
        item.audience = [a for a in fields["audience"] if a]
    if "body_md" in fields:
        item.body_md = fields["body_md"] or ""
        item.body_html = render_markdown(item.body_md)
    item.title_folded = fold(item.title)


def set_collections(item: LibraryItem, titles: list[str]) -> None:
    collections = []
    for title in titles:
        title = nfc(title)
        if not title:
            continue
        slug = slugify(title)
        collection = db.session.scalar(select(LibraryCollection).where(LibraryCollection.slug == slug))
        if collection is None:
            position = db.session.scalar(select(func.count(LibraryCollection.id))) or 0
            collection = LibraryCollection(slug=slug, title=title, position=position)
            db.session.add(collection)
        collections.append(collection)
    if collections != list(item.collections):
        item.collections = collections
        item.updated_at = utcnow()  # the item's cached page part is keyed on it (lms/library/pages.py)


def attach_file(item: LibraryItem, filename: str, data: bytes, role: str = "main", user=None) -> LibraryFile:
    """Store a new file for `item`; the previous file of the same role stays as an older version."""
    content_type = content_type_for(filename)
    if content_type is None:
        raise LibraryError(_message("unsupported"))
    if len(data) > MAX_FILE_BYTES:
        raise LibraryError(_message("too_big"))
    if not data:
        raise LibraryError(_message("empty"))
    if item.id is None:
        db.session.flush()
    number = 1 + (db.session.scalar(select(func.max(LibraryFile.number)).where(
        LibraryFile.item_id == item.id, LibraryFile.role == role)) or 0)
    name = safe_filename(filename)
    key = f"library/{item.slug}/{role}-{number}-{name}"
    get_store().put(key, data)
    db.session.execute(update(LibraryFile).where(LibraryFile.item_id == item.id, LibraryFile.role == role)
                       .values(is_current=False))
    file = LibraryFile(item=item, role=role, number=number, key=key, filename=name, content_type=content_type,
                       size=len(data), sha256=hashlib.sha256(data).hexdigest(), is_current=True,
                       uploaded_by_id=getattr(user, "id", None))
    db.session.add(file)
    item.updated_at = utcnow()  # a new file is a new version of the item's page (lms/library/pages.py)
    db.session.flush()
    outbox.enqueue("library.extract_text", file_id=file.id)
    return file


def archive(item: LibraryItem) -> None:
    item.status = "archived"


def count_download(item_id: int) -> None:
    """One UPDATE, so concurrent downloads never lose a count (and the item is not re-indexed). It keeps
    `updated_at`: a download is no new version of the item's page (lms/library/pages.py)."""
    db.session.execute(update(LibraryItem).where(LibraryItem.id == item_id)
                       .values(downloads=LibraryItem.downloads + 1, updated_at=LibraryItem.updated_at)
                       .execution_options(synchronize_session=False))


def _message(code: str) -> str:
    from flask_babel import gettext as _

    return {
        "unsupported": _("This kind of file cannot be added. Use PDF, DOCX, ODT, PNG/JPEG/WebP, MP4/WebM, "
                         "MP3/OGG/M4A, or VTT/SRT captions."),
        "too_big": _("The file is larger than 200 MB."),
        "empty": _("The file is empty."),
    }[code]


SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
