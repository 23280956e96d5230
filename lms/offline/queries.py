"""What a course's offline copy holds: its pages, the images, course files and library items they link
(with the items' files), a size estimate and a version."""

import hashlib
import re

from flask import url_for

from lms.core.files import get_store
from lms.library import queries as library_queries

# Same-site addresses in lesson HTML: images and media (course files, library files), links to
# library items and to course files (a PDF given with the lesson).
_SOURCES = re.compile(r'\ssrc="(/[^"/][^"]*)"')
_LIBRARY_LINKS = re.compile(r'\shref="(/library/[^"#?]+)')
_COURSE_FILES = re.compile(r'\shref="(/courses/[^"/#?]+/assets/[^"#?]+)"')
_LIBRARY_URL = re.compile(r"^/library/([^/]+)(/file|/captions)?$")
_ASSET_URL = re.compile(r"^/courses/([^/]+)/assets/(.+)$")
PAGE_SHELL_BYTES = 2_500  # header, menu and footer of a page around its own text, compressed (3.7 KB lesson: docs/performance.md)
TEXT_RATIO = 0.35  # roughly what brotli leaves of HTML text; checked within 25 % by tests/offline/test_course_download.py


def _page_bytes(html_bytes: int) -> int:
    return PAGE_SHELL_BYTES + int(html_bytes * TEXT_RATIO)


def _linked(bodies: list[str]) -> list[str]:
    found: list[str] = []
    for body in bodies:
        for url in _SOURCES.findall(body) + _LIBRARY_LINKS.findall(body) + _COURSE_FILES.findall(body):
            url = url.replace("&amp;", "&")
            if url not in found:
                found.append(url)
    return found


def _weigh_files(urls: list[str], user) -> tuple[list[str], int]:
    """The URLs to store (a linked library item brings its file and captions) and their bytes: files
    as stored (already compressed formats: sent as they are), item pages estimated like lessons."""
    slugs = {match.group(1) for url in urls if (match := _LIBRARY_URL.match(url))}
    items = library_queries.offline_weights(slugs, user)
    store, out, size = get_store(), [], 0

    def add(url, weight):
        nonlocal size
        if url not in out:
            out.append(url)
            size += weight or 0

    for url in urls:
        library, asset = _LIBRARY_URL.match(url), _ASSET_URL.match(url)
        if library and library.group(1) in items:
            item = items[library.group(1)]
            if library.group(2) is None:
                add(url, _page_bytes(item["page"]))
            for part in ("file", "captions"):
                if item[part] is not None and library.group(2) in (None, f"/{part}"):
                    add(f"/library/{library.group(1)}/{part}", item[part])
        elif asset:
            add(url, store.size(f"courses/{asset.group(1)}/assets/{asset.group(2)}"))
        elif not library:
            add(url, 0)  # not weighed (another same-site address), still stored
    return out, size


def course_manifest(course, lessons, user) -> dict:
    """Every URL to store for `course` as `user` may read it, a size estimate (what the download costs
    over the network) and a version that changes whenever a stored page would (a lesson added,
    removed, retitled or edited)."""
    pages = [url_for("catalog.course", slug=course.slug)]
    entries, bodies = [], []
    digest = hashlib.sha256(course.slug.encode())
    size = _page_bytes(len((course.description_html or "").encode()))
    for lesson in lessons:
        if not lesson.can_view(user):
            continue
        url = url_for("catalog.lesson", slug=course.slug, lesson_id=lesson.id)
        body = lesson.body_html or ""
        pages.append(url)
        entries.append({"url": url, "title": lesson.title, "practice": lesson.is_simulation})
        digest.update(f"{lesson.id}|{lesson.title}|".encode() + body.encode())
        size += _page_bytes(len(body.encode()))
        bodies.append(body)
    files, file_bytes = _weigh_files(_linked(bodies), user)
    digest.update("|".join(files).encode())
    return {"course": course.slug, "title": course.title, "version": digest.hexdigest()[:16],
            "urls": pages + files, "lessons": entries, "bytes": size + file_bytes, "file_bytes": file_bytes,
            "files": len(files)}
