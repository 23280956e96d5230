"""Writing a course back as a folder in the course format (COURSE_FORMAT.md).

The output is canonical: export → import → export gives byte-identical files. Lessons and
modules are numbered by their current order (so reordering in the browser shows up as
renamed files in git, and identity is kept by the file stem or an explicit `id:`); quiz
files are written back exactly as they were imported or edited.
"""

import shutil
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import undefer

from lms.catalog.models import Course, Lesson
from lms.catalog.source import COURSE_KEYS, default_title
from lms.core.files import get_store
from lms.core.text import slugify
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.quizzes.sync import BANK_PREFIX, bank_text

COURSE_KEY_ORDER = ["title", "code", "program", "audience", "language", "hours", "passing_score", "certificate",
                    "valid_months", "tags"]


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


class _Dumper(yaml.SafeDumper):
    """Block mappings with lists on one line (`tags: [a, b]`), as trainers write them."""


_Dumper.add_representer(list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def front_matter_document(meta: dict, body: str) -> str:
    head = yaml.dump(meta, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=10_000)
    body = (body or "").strip()
    return f"---\n{head}---\n" + (f"{body}\n" if body else "")


def course_meta(course: Course) -> dict:
    mapped = {
        "title": course.title, "code": course.code, "program": course.program, "audience": list(course.audience or []),
        "language": course.language, "hours": _number(course.hours), "passing_score": course.passing_score,
        "certificate": bool(course.certificate), "valid_months": course.valid_months, "tags": list(course.tags or []),
    }
    meta = {key: mapped[key] for key in COURSE_KEY_ORDER if mapped[key] is not None and mapped[key] != []}
    # Keys this module does not map to columns (added to COURSE_KEYS elsewhere) come back as read.
    for key, value in (course.front_matter or {}).items():
        if key not in mapped and key in COURSE_KEYS:
            meta[key] = value
    return meta


def lesson_stem(lesson: Lesson) -> str:
    return lesson.file_stem or slugify(lesson.key.rsplit("/", 1)[-1]) or f"bai-{lesson.id}"


def lesson_document(lesson: Lesson) -> str:
    meta = {"title": lesson.title}
    if lesson.minutes is not None:
        meta["minutes"] = lesson.minutes
    if lesson.key != f"{lesson.module.key}/{lesson_stem(lesson)}":
        meta["id"] = lesson.key
    return front_matter_document(meta, lesson.body_md)


def course_files(course: Course) -> dict[str, bytes]:
    """The course folder as {relative path: bytes}."""
    files = {"course.md": front_matter_document(course_meta(course), course.description_md).encode()}
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id, Lesson.archived_at.is_(None))
                                 .options(undefer(Lesson.body_md), undefer(Lesson.source_text))).all()
    quizzes = db.session.scalars(select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None))).all()
    modules = [m for m in course.modules if m.archived_at is None]
    for module_number, module in enumerate(modules, start=1):
        stem = module.folder_stem or slugify(module.key) or f"chuong-{module.id}"
        folder = f"{module_number:02d}-{stem}"
        module_lessons = sorted((lesson for lesson in lessons if lesson.module_id == module.id), key=lambda x: (x.position, x.id))
        # An empty module folder would vanish from git: it keeps its module.md.
        if module.title != default_title(stem) or module.intro_md or module.key != stem or not module_lessons:
            meta = {"title": module.title}
            if module.key != stem:
                meta["id"] = module.key
            files[f"{folder}/module.md"] = front_matter_document(meta, module.intro_md).encode()
        for number, lesson in enumerate(module_lessons, start=1):
            if lesson.is_simulation:  # practice simulations are written back verbatim (lms/practice/format.py)
                files[f"{folder}/{number:02d}-{lesson_stem(lesson)}.sim.md"] = (lesson.source_text or "").encode()
                continue
            files[f"{folder}/{number:02d}-{lesson_stem(lesson)}.md"] = lesson_document(lesson).encode()
        for quiz in quizzes:
            if quiz.module_id == module.id and quiz.source_text is not None:
                files[f"{folder}/{quiz.source_name or 'quiz.md'}"] = quiz.source_text.encode()
    for quiz in quizzes:
        if quiz.module_id is None and quiz.key.startswith(BANK_PREFIX):
            files[f"banks/{quiz.key.removeprefix(BANK_PREFIX)}.gift"] = bank_text(quiz).encode()
    store = get_store()
    prefix = f"courses/{course.slug}/assets"
    for key in store.list(prefix):
        files["assets/" + key[len(prefix) + 1:]] = store.get(key)
    return files


def export_course(course: Course, directory: Path) -> Path:
    """Write the course to `directory/<slug>`, replacing what an earlier export wrote there
    (files and folders starting with `_` or `.` — e.g. notes, .git — are left alone)."""
    target = Path(directory) / course.slug
    target.mkdir(parents=True, exist_ok=True)
    for child in target.iterdir():
        if child.name.startswith(("_", ".")):
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    for relative, data in course_files(course).items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return target
