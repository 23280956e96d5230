"""What a course's offline copy holds: its pages, the images and library items they link, and a version."""

import hashlib
import re

from flask import url_for

# Same-site addresses in lesson HTML: images (uploaded files, library files) and links to library items.
_SOURCES = re.compile(r'\ssrc="(/[^"/][^"]*)"')
_LIBRARY_LINKS = re.compile(r'\shref="(/library/[^"#?]+)')
PAGE_SHELL_BYTES = 6_000  # header, menu and footer of a compressed page around the lesson's own text


def course_manifest(course, lessons, user) -> dict:
    """Every URL to store for `course` as `user` may read it, a size estimate and a version that
    changes whenever a stored page would (a lesson added, removed, retitled or edited)."""
    pages = [url_for("catalog.course", slug=course.slug)]
    files: list[str] = []
    entries = []
    digest = hashlib.sha256(course.slug.encode())
    size = PAGE_SHELL_BYTES + len((course.description_html or "").encode())
    for lesson in lessons:
        if not lesson.can_view(user):
            continue
        url = url_for("catalog.lesson", slug=course.slug, lesson_id=lesson.id)
        body = lesson.body_html or ""
        pages.append(url)
        entries.append({"url": url, "title": lesson.title, "practice": lesson.is_simulation})
        digest.update(f"{lesson.id}|{lesson.title}|".encode() + body.encode())
        size += PAGE_SHELL_BYTES + len(body.encode())
        for found in _SOURCES.findall(body) + _LIBRARY_LINKS.findall(body):
            if found not in files:
                files.append(found)
    digest.update("|".join(files).encode())
    return {"course": course.slug, "title": course.title, "version": digest.hexdigest()[:16],
            "urls": pages + files, "lessons": entries, "bytes": size, "files": len(files)}
