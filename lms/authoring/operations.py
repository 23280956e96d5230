"""State changes made in the browser editor. Flush only; controllers commit.

Browser edits and git edits meet in the same rows: `courses import` of a changed folder
overwrites what the browser made (import wins) but every replaced lesson text stays in the
lesson's revision history; `courses export` writes what the browser made.
"""

import difflib
import hashlib
import json
import re
import tempfile
from pathlib import Path

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from lms.catalog.models import Course, CourseOwner, Lesson, LessonRevision, Module
from lms.catalog.rendering import (
    record_revision,
    render_course_description,
    render_lesson,
    render_module,
)
from lms.core import audit
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.frontmatter import SourceError
from lms.core.markdown import sanitise
from lms.core.permissions import can
from lms.core.text import fold, slugify
from lms.extensions import db
from lms.quizzes.gift import parse_gift_file
from lms.quizzes.markdown_format import parse_quiz
from lms.quizzes.models import Quiz
from lms.quizzes.sync import apply_settings, sync_questions

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class EditError(ValueError):
    pass


class StaleEdit(EditError):
    """Someone saved the lesson after this editor was opened."""


# ---------------------------------------------------------------- courses

def create_course(title: str, slug: str, author) -> Course:
    slug = slug or slugify(title)
    if not SLUG.match(slug or ""):
        raise EditError(_l("The address name may use only a-z, 0-9 and '-'."))
    if db.session.scalar(select(Course.id).where(Course.slug == slug)):
        raise EditError(_l("A course with the address name %(slug)s already exists.", slug=slug))
    code = slug.upper()[:40]
    if db.session.scalar(select(Course.id).where(Course.code == code)):
        code = f"{code[:34]}-{db.session.scalar(select(func.count(Course.id))) + 1}"
    course = Course(slug=slug, code=code, title=title, title_folded=fold(title), status="draft", audience=[], tags=[],
                    front_matter={})
    db.session.add(course)
    course.owners.append(CourseOwner(user=author))
    db.session.flush()
    audit.record(author, "course.create", course, slug=slug)
    return course


def update_course(course: Course, data: dict) -> None:
    code = data["code"].strip()[:40]
    clash = db.session.scalar(select(Course.id).where(Course.code == code, Course.id != course.id))
    if clash:
        raise EditError(_l("Another course already uses the code %(code)s.", code=code))
    course.title = data["title"].strip()
    course.title_folded = fold(course.title)
    course.code = code
    course.program = data.get("program") or None
    course.audience = list(data.get("audience") or [])
    course.hours = data.get("hours") or 0
    course.passing_score = data.get("passing_score") or 0
    course.certificate = bool(data.get("certificate"))
    course.valid_months = data.get("valid_months") or None
    course.tags = [tag.strip() for tag in (data.get("tags") or "").split(",") if tag.strip()]
    course.description_md = (data.get("description") or "").strip()
    course.search_text = fold(" ".join([course.title, course.code, *course.tags, course.description_md]))
    render_course_description(course)
    db.session.flush()


def set_status(course: Course, status: str) -> None:
    if status not in ("draft", "published"):
        raise EditError(_l("Unknown status."))
    if status == "published" and not course.active_lessons():
        raise EditError(_l("Add at least one lesson before publishing."))
    audit.record(None, "course.status", course, before={"status": course.status}, after={"status": status})
    course.status = status
    db.session.flush()


def add_owner(course: Course, user) -> None:
    if not can("teach", user):
        raise EditError(_l("%(name)s is not a trainer; an administrator must give them the trainer role first.",
                           name=user.full_name))
    if any(owner.user_id == user.id for owner in course.owners):
        return
    course.owners.append(CourseOwner(user=user))
    db.session.flush()
    audit.record(None, "course.owner_add", course, user_id=user.id)


def remove_owner(course: Course, user_id: int) -> None:
    for owner in list(course.owners):
        if owner.user_id == user_id:
            course.owners.remove(owner)
            audit.record(None, "course.owner_remove", course, user_id=user_id)
    db.session.flush()


# ---------------------------------------------------------------- modules and lessons

def active_modules(course: Course) -> list[Module]:
    return [m for m in course.modules if m.archived_at is None]


def add_module(course: Course, title: str) -> Module:
    stem = _unique(slugify(title) or "chuong", {m.key for m in course.modules})
    position = max((m.position for m in course.modules), default=0) + 1
    module = Module(course=course, key=stem, folder_stem=stem, title=title, position=position)
    db.session.add(module)
    db.session.flush()
    return module


def update_module(module: Module, title: str, intro: str) -> None:
    module.title = title.strip()
    module.intro_md = (intro or "").strip()
    render_module(module)
    db.session.flush()


def add_lesson(module: Module, title: str, author) -> Lesson:
    keys = set(db.session.scalars(select(Lesson.key).where(Lesson.course_id == module.course_id)))
    stem = slugify(title) or "bai"
    while f"{module.key}/{stem}" in keys:
        stem = _unique(stem, {k.rsplit("/", 1)[-1] for k in keys})
    siblings = [lesson for lesson in module.lessons if lesson.archived_at is None]
    lesson = Lesson(course=module.course, module=module, key=f"{module.key}/{stem}", file_stem=stem, title=title.strip(),
                    module_position=module.position, position=max((x.position for x in siblings), default=0) + 1,
                    body_md="", version=0)
    db.session.add(lesson)
    db.session.flush()
    render_lesson(lesson)
    record_revision(lesson, origin="browser", author=author)
    db.session.flush()
    return lesson


def save_lesson(lesson: Lesson, *, title: str, minutes: int | None, body_md: str, expected_version: int, author,
                origin: str = "browser") -> LessonRevision:
    """Save only if nobody saved since `expected_version` was read (checked in the UPDATE itself,
    so two simultaneous saves cannot both win)."""
    result = db.session.execute(
        update(Lesson).where(Lesson.id == lesson.id, Lesson.version == expected_version)
        .values(version=expected_version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.refresh(lesson)
        raise StaleEdit(_l("Someone else saved this lesson after you opened it. Your text has NOT been saved and is "
                           "kept below; compare it with the saved version, then save again to replace it."))
    lesson.version = expected_version + 1
    lesson.title = title.strip()
    lesson.minutes = minutes
    lesson.body_md = body_md.replace("\r\n", "\n").strip()
    render_lesson(lesson)
    revision = LessonRevision(lesson=lesson, version=lesson.version, title=lesson.title, minutes=lesson.minutes,
                              body_md=lesson.body_md, origin=origin, author=author)
    db.session.add(revision)
    db.session.flush()
    return revision


def revert_lesson(lesson: Lesson, revision: LessonRevision, expected_version: int, author) -> LessonRevision:
    return save_lesson(lesson, title=revision.title, minutes=revision.minutes, body_md=revision.body_md,
                       expected_version=expected_version, author=author, origin="revert")


def move(item, direction: str) -> bool:
    """Swap a module or lesson with its neighbour (direction 'up' or 'down'). False when the item was removed
    from the course (archived: it has no place in the outline to move from)."""
    if isinstance(item, Module):
        siblings = active_modules(item.course)
    else:
        siblings = sorted((x for x in item.module.lessons if x.archived_at is None), key=lambda x: (x.position, x.id))
    if item not in siblings:
        return False
    index = siblings.index(item)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(siblings):
        return True
    siblings[index], siblings[other] = siblings[other], siblings[index]
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
        if isinstance(sibling, Module):
            for lesson in sibling.lessons:
                lesson.module_position = position
    db.session.flush()
    return True


def fingerprint(item) -> str:
    """A short hash of what an editor page shows, so a save can tell that someone saved meanwhile."""
    if isinstance(item, Course):
        values = [item.title, item.code, item.program, item.audience, str(item.hours), item.passing_score, item.certificate,
                  item.valid_months, item.tags, item.description_md]
    elif isinstance(item, Module):
        values = [item.title, item.intro_md]
    else:
        values = [item.source_text]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False, default=str).encode()).hexdigest()[:16]


def check_fresh(item, opened: str | None) -> None:
    if opened and opened != fingerprint(item):
        raise StaleEdit(_l("Someone else saved this page after you opened it. Your changes have NOT been saved and are "
                           "kept below; check the current version, then save again to replace it."))


def _unique(stem: str, taken: set[str]) -> str:
    candidate, number = stem, 2
    while candidate in taken:
        candidate, number = f"{stem}-{number}", number + 1
    return candidate


# ---------------------------------------------------------------- revisions

def diff_html(old: LessonRevision, new_title: str, new_body: str, labels: tuple[str, str]) -> str:
    """A side-by-side diff (difflib), sanitised like any other HTML we show."""
    table = difflib.HtmlDiff(wrapcolumn=60).make_table(
        [f"# {old.title}", *old.body_md.split("\n")], [f"# {new_title}", *new_body.split("\n")],
        labels[0], labels[1], context=True, numlines=2)
    return sanitise(table)


def archive_lesson(lesson: Lesson) -> None:
    """Remove a lesson from the course: archived (progress kept) when learners opened it, deleted otherwise."""
    from lms.enrollment.models import LessonProgress

    touched = db.session.scalar(select(func.count(LessonProgress.id)).where(LessonProgress.lesson_id == lesson.id))
    if touched:
        lesson.archived_at = utcnow()
    else:
        db.session.delete(lesson)
    db.session.flush()


# ---------------------------------------------------------------- quizzes (raw text, the existing parser)

QUIZ_TEMPLATE = """---
title: {title}
pass: 70
attempts: 3
---

## Câu hỏi thứ nhất?
type: single
- [ ] Phương án sai
- [x] Phương án đúng
> Giải thích đáp án.
"""


def _yaml_scalar(text: str) -> str:
    """The title as written in front matter: plain when YAML reads it back as it is, else quoted
    (JSON is YAML), so a title like "Bước 1: …" or "[Ôn tập]" cannot break the quiz file."""
    try:
        if yaml.safe_load(f"title: {text}") == {"title": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)


def add_quiz(module: Module, title: str) -> Quiz:
    taken = {name for name in db.session.scalars(select(Quiz.source_name).where(Quiz.module_id == module.id))}
    name = "quiz.md" if "quiz.md" not in taken else _unique(slugify(title) or "kiem-tra", {n[:-8] for n in taken}) + ".quiz.md"
    key = f"{module.key}/{'quiz' if name == 'quiz.md' else name[:-8]}"
    quiz = Quiz(course=module.course, module=module, key=key, title=title, source_name=name)
    db.session.add(quiz)
    db.session.flush()
    save_quiz_text(quiz, QUIZ_TEMPLATE.format(title=_yaml_scalar(title.replace("\n", " "))))
    return quiz


def save_quiz_text(quiz: Quiz, text: str) -> None:
    """Re-parse the edited quiz file with the quiz parser and apply it; a SourceError leaves the quiz as it was."""
    text = text.replace("\r\n", "\n")
    name = quiz.source_name or "quiz.md"
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / name
        path.write_text(text, encoding="utf-8")
        try:
            source = parse_gift_file(path) if name.endswith(".gift") else parse_quiz(path)
        except SourceError as error:
            raise EditError(f"{name}:{error.line or 1}: {error.message}") from None
    settings = ("pass_mark", "max_attempts", "time_limit_minutes", "feedback_timing", "answers_shown", "review")
    before = {name: getattr(quiz, name) for name in settings}
    apply_settings(quiz, source, quiz.course.passing_score)
    quiz.source_text = text
    sync_questions(quiz, source)
    db.session.flush()
    after = {name: getattr(quiz, name) for name in settings}
    changed = [name for name in settings if before[name] != after[name]]
    audit.record(None, "quiz.edit", quiz, before={n: before[n] for n in changed}, after={n: after[n] for n in changed})


# ---------------------------------------------------------------- uploads

UPLOAD_TYPES = {
    ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",), ".gif": (b"GIF8",),
    ".webp": (b"RIFF",), ".svg": None, ".pdf": (b"%PDF",), ".mp3": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    ".ogg": (b"OggS",), ".wav": (b"RIFF",), ".m4a": None, ".mp4": None, ".webm": (b"\x1a\x45\xdf\xa3",),
}
MEDIA_EXTENSIONS = (".mp3", ".ogg", ".wav", ".m4a", ".mp4", ".webm")


def _looks_right(extension: str, data: bytes) -> bool:
    if extension == ".svg":
        head = data[:2048].lstrip().lower()
        return head.startswith((b"<svg", b"<?xml", b"<!--")) and b"<svg" in data[:65536].lower()
    if extension in (".mp4", ".m4a"):
        return data[4:8] == b"ftyp"
    return data.startswith(UPLOAD_TYPES[extension])


def store_upload(course: Course, filename: str, data: bytes, max_bytes: int) -> tuple[str, str]:
    """Check type and size, store under the course's assets; returns (file name, Markdown to insert)."""
    stem, extension = Path(filename or "").stem, Path(filename or "").suffix.lower()
    if extension not in UPLOAD_TYPES:
        raise EditError(_l("This kind of file cannot be uploaded. Allowed: %(types)s.",
                           types=", ".join(sorted(e.lstrip(".") for e in UPLOAD_TYPES))))
    if not data:
        raise EditError(_l("The file is empty."))
    if len(data) > max_bytes:
        raise EditError(_l("The file is too large (at most %(mb)d MB).", mb=max_bytes // (1024 * 1024)))
    if not _looks_right(extension, data):
        raise EditError(_l("The file's content does not match its extension %(ext)s.", ext=extension))
    store = get_store()
    prefix = f"courses/{course.slug}/assets"
    existing = {key[len(prefix) + 1:] for key in store.list(prefix)}
    base = slugify(stem) or "tep"
    name, number = f"{base}{extension}", 2
    while name in existing and store.get(f"{prefix}/{name}") != data:
        name, number = f"{base}-{number}{extension}", number + 1
    store.put(f"{prefix}/{name}", data)
    label = stem.replace("[", "").replace("]", "") or name
    if extension in (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg") or extension in MEDIA_EXTENSIONS:
        return name, f"![{label}](../assets/{name})"
    return name, f"[{label}](../assets/{name})"


def course_assets(course: Course) -> list[str]:
    prefix = f"courses/{course.slug}/assets"
    return [key[len(prefix) + 1:] for key in get_store().list(prefix)]
