"""Lesson, module and course text rendered to HTML, and lesson revisions: the catalog's API for every
writer of course content (the importer in catalog.operations, the browser editor in lms.authoring and
practice's simulation editor), so the editors never call the catalog's operations."""

import posixpath
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import select

from lms.catalog.models import Course, Lesson, LessonRevision, Module
from lms.catalog.source import strip_prefix
from lms.core.markdown import RENDERER_VERSION, render
from lms.extensions import db
from lms.practice.render import simulation_data

ASSET_URL = "/courses/{slug}/assets/{path}"
LESSON_KEY_URL = "/courses/{slug}/lessons/key/{key}"


def lesson_link_map(course: Course) -> dict[tuple[str, str], str]:
    """{(module folder stem, lesson file stem): lesson key} from the database, for rendering without a folder."""
    rows = db.session.execute(select(Module.folder_stem, Module.key, Lesson.file_stem, Lesson.key).join(Lesson.module)
                              .where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))).all()
    return {(folder or module_key, stem or key.rsplit("/", 1)[-1]): key for folder, module_key, stem, key in rows}


def asset_resolver(slug: str, base: str, lessons: dict[tuple[str, str], str] | None = None):
    """`base` is the folder of the file the link is written in, relative to the course folder
    ("" for course.md, the module folder for lessons). A link to another lesson's file is matched
    by module and file name *without* numeric prefixes, so renumbering never breaks it."""

    def resolve(url: str) -> str:
        path, _, fragment = url.partition("#")
        target = posixpath.normpath(posixpath.join(base, path))
        suffix = "#" + fragment if fragment else ""
        if target.startswith("assets/"):
            return ASSET_URL.format(slug=slug, path=target[len("assets/"):]) + suffix
        parts = target.split("/")
        if lessons and len(parts) == 2 and parts[1].endswith(".md"):
            key = lessons.get((strip_prefix(parts[0])[1], strip_prefix(parts[1][:-3])[1]))
            if key:
                return LESSON_KEY_URL.format(slug=slug, key=quote(key)) + suffix
        return url

    return resolve


def record_revision(lesson: Lesson, origin: str, author=None) -> LessonRevision:
    """Bump the lesson's version and keep its new state in the history."""
    lesson.version = (lesson.version or 0) + 1
    revision = LessonRevision(lesson=lesson, version=lesson.version, title=lesson.title, minutes=lesson.minutes,
                              body_md=lesson.body_md or "", origin=origin, author=author)
    db.session.add(revision)
    return revision


def render_lesson(lesson: Lesson, links: dict | None = None) -> None:
    links = lesson_link_map(lesson.course) if links is None else links
    base = lesson.module.folder_stem or lesson.module.key
    resolve = asset_resolver(lesson.course.slug, base, links)
    if lesson.is_simulation:  # body_md is the whole `*.sim.md` file; the page shows its intro
        from lms.practice.format import parse_simulation

        parsed = parse_simulation(Path(f"{lesson.file_stem or 'simulation'}.sim.md"), text=lesson.body_md or "")
        lesson.source_text = lesson.body_md
        lesson.body_html = render(parsed.intro, resolve)
        lesson.simulation = simulation_data(parsed, resolve)
    else:
        lesson.body_html = render(lesson.body_md or "", resolve)
    lesson.renderer_version = RENDERER_VERSION


def render_module(module: Module, links: dict | None = None) -> None:
    links = lesson_link_map(module.course) if links is None else links
    module.intro_html = render(module.intro_md or "", asset_resolver(module.course.slug, module.folder_stem or module.key, links))


def render_course_description(course: Course, links: dict | None = None) -> None:
    links = lesson_link_map(course) if links is None else links
    course.description_html = render(course.description_md or "", asset_resolver(course.slug, "", links))
