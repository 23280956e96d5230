"""A `library/` folder in git, imported like courses (`flask library import library/`).

Each item is one Markdown file, `<slug>.md`: YAML front matter for the metadata and the body as the
article (or the description above a file). `file:` and `captions:` name files relative to the
folder. docs/course-format.md describes the keys.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from lms.core.frontmatter import SourceError, parse
from lms.library.models import ITEM_KINDS
from lms.library.operations import SLUG

REQUIRED = ("title", "kind", "licence")
AUDIENCES = ("citizen", "official", "cio")


@dataclass
class ItemSource:
    slug: str
    path: Path
    fields: dict
    collections: list
    locality: str | None
    files: dict  # role -> (filename, bytes)
    source_hash: str


def find_item_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")


def read_item(path: Path) -> ItemSource:
    document = parse(path)
    meta = document.meta
    slug = str(meta.get("slug") or path.stem)
    if not SLUG.match(slug):
        raise SourceError(path, 1, "the file name (or slug:) must be lower-case letters, digits and dashes")
    for key in REQUIRED:
        if not meta.get(key):
            raise SourceError(path, 1, f"`{key}:` is required")
    if meta["kind"] not in ITEM_KINDS:
        raise SourceError(path, 1, f"`kind:` must be one of {', '.join(ITEM_KINDS)}")
    audience = meta.get("audience") or []
    audience = [audience] if isinstance(audience, str) else list(audience)
    if any(a not in AUDIENCES for a in audience):
        raise SourceError(path, 1, f"`audience:` may list {', '.join(AUDIENCES)}")
    published = meta.get("published")
    if published is not None and not isinstance(published, date):
        raise SourceError(path, 1, "`published:` must be a date written as YYYY-MM-DD")
    files, digest = {}, hashlib.sha256(path.read_bytes())
    for role, key in (("main", "file"), ("captions", "captions")):
        if meta.get(key):
            file_path = (path.parent / str(meta[key])).resolve()
            if path.parent.resolve() not in file_path.parents or not file_path.is_file():
                raise SourceError(path, 1, f"`{key}: {meta[key]}` is not a file inside the library folder")
            data = file_path.read_bytes()
            digest.update(data)
            files[role] = (file_path.name, data)
    if meta["kind"] == "link" and not meta.get("url"):
        raise SourceError(path, 1, "a `kind: link` item needs `url:`")
    collections = meta.get("collections") or []
    fields = {"title": str(meta["title"]), "kind": meta["kind"], "summary": str(meta.get("summary") or ""),
              "body_md": document.body.strip(), "topic": str(meta.get("topic") or ""), "audience": audience,
              "language": str(meta.get("language") or "vi"), "agency": str(meta.get("agency") or ""),
              "licence": str(meta["licence"]), "published_on": published, "version": str(meta.get("version") or ""),
              "url": meta.get("url"), "status": "draft" if meta.get("draft") else "published"}
    return ItemSource(slug=slug, path=path, fields=fields,
                      collections=[collections] if isinstance(collections, str) else list(collections),
                      locality=meta.get("locality"), files=files, source_hash=digest.hexdigest())
