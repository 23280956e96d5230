"""Applying course sources to the database. Flush only; the CLI commits per course."""

import posixpath
from pathlib import Path

from sqlalchemy import exists, select

from lms.catalog.models import Course, Lesson, Module
from lms.catalog.source import CourseSource
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.markdown import RENDERER_VERSION, render
from lms.core.text import fold
from lms.enrollment.models import LessonProgress
from lms.extensions import db
from lms.quizzes.markdown_format import QuizSource
from lms.quizzes.models import Quiz
from lms.quizzes.sync import BANK_PREFIX, apply_settings, sync_questions

ASSET_URL = "/courses/{slug}/assets/{path}"


def _resolver(source: CourseSource, file: Path):
    """Map a link written in `file` to the served URL when it points into the course's assets/."""
    base = file.parent.relative_to(source.path).as_posix()

    def resolve(url: str) -> str:
        path, _, fragment = url.partition("#")
        target = posixpath.normpath(posixpath.join(base, path))
        if target.startswith("assets/"):
            resolved = ASSET_URL.format(slug=source.slug, path=target[len("assets/"):])
            return resolved + ("#" + fragment if fragment else "")
        return url

    return resolve


def import_course(source: CourseSource, force: bool = False) -> str:
    """Create or update a course from its source; returns 'created', 'updated' or 'unchanged'."""
    course = db.session.scalar(select(Course).where(Course.slug == source.slug))
    if course is not None and course.source_hash == source.content_hash and not force and _rendered_current(course):
        return "unchanged"
    outcome = "updated" if course is not None else "created"
    if course is None:
        course = Course(slug=source.slug, status="published")
        db.session.add(course)
    meta = source.meta
    course.title = meta["title"]
    course.title_folded = fold(meta["title"])
    course.code = meta["code"]
    course.program = meta["program"]
    course.audience = meta["audience"]
    course.language = meta["language"]
    course.hours = meta["hours"]
    course.passing_score = meta["passing_score"]
    course.certificate = meta["certificate"]
    course.valid_months = meta["valid_months"]
    course.tags = meta["tags"]
    course.description_md = source.description
    course.description_html = render(source.description, _resolver(source, source.path / "course.md"))
    course.search_text = fold(" ".join([meta["title"], meta["code"], *meta["tags"], source.description]))
    course.source_path = str(source.path)
    course.source_hash = source.content_hash
    db.session.flush()

    _copy_assets(source)
    modules = _sync_modules(course, source)
    _sync_lessons(course, source, modules)
    _sync_quizzes(course, source, modules)
    db.session.flush()
    return outcome


def _rendered_current(course: Course) -> bool:
    return not db.session.scalar(select(exists().where(
        Lesson.course_id == course.id, Lesson.renderer_version != RENDERER_VERSION)))


def _copy_assets(source: CourseSource) -> None:
    store = get_store()
    for file in source.asset_files():
        relative = file.relative_to(source.path / "assets").as_posix()
        store.put(f"courses/{source.slug}/assets/{relative}", file.read_bytes())


def _sync_modules(course: Course, source: CourseSource) -> dict[str, Module]:
    existing = {m.key: m for m in course.modules}
    result = {}
    for module_source in source.modules:
        module = existing.pop(module_source.key, None) or Module(course=course, key=module_source.key)
        module.position = module_source.position
        module.title = module_source.title
        module.intro_md = module_source.intro
        module.intro_html = render(module_source.intro, _resolver(source, module_source.path / "module.md"))
        module.archived_at = None
        db.session.add(module)
        result[module.key] = module
    for module in existing.values():
        module.archived_at = module.archived_at or utcnow()
    db.session.flush()
    return result


def _sync_lessons(course: Course, source: CourseSource, modules: dict[str, Module]) -> None:
    existing = {lesson.key: lesson for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}
    for module_source in source.modules:
        module = modules[module_source.key]
        for lesson_source in module_source.lessons:
            lesson = existing.pop(lesson_source.key, None) or Lesson(course=course, key=lesson_source.key)
            lesson.module = module
            lesson.module_position = module.position
            lesson.position = lesson_source.position
            lesson.title = lesson_source.title
            lesson.minutes = lesson_source.minutes
            lesson.body_md = lesson_source.body
            lesson.body_html = render(lesson_source.body, _resolver(source, lesson_source.path))
            lesson.renderer_version = RENDERER_VERSION
            lesson.archived_at = None
            db.session.add(lesson)
    for lesson in existing.values():
        touched = db.session.scalar(select(exists().where(LessonProgress.lesson_id == lesson.id)))
        if touched:
            lesson.archived_at = lesson.archived_at or utcnow()
        else:
            db.session.delete(lesson)


def _quiz_key(module_key: str, quiz: QuizSource) -> str:
    if quiz.explicit_id:
        return quiz.explicit_id
    name = Path(quiz.path).name
    if name == "quiz.md":
        stem = "quiz"
    elif name.endswith(".quiz.md"):
        stem = name[: -len(".quiz.md")]
    else:
        stem = Path(name).stem
    return f"{module_key}/{stem}"


def _sync_quizzes(course: Course, source: CourseSource, modules: dict[str, Module]) -> None:
    existing = {quiz.key: quiz for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))}
    for module_source in source.modules:
        for quiz_source in module_source.quizzes:
            key = _quiz_key(module_source.key, quiz_source)
            quiz = existing.pop(key, None) or Quiz(course=course, key=key)
            quiz.module = modules[module_source.key]
            apply_settings(quiz, quiz_source, course.passing_score)
            db.session.add(quiz)
            db.session.flush()
            sync_questions(quiz, quiz_source)
    for quiz in existing.values():
        # Banks imported by a trainer (GIFT/Aiken upload) are not part of the folder; keep them.
        if not quiz.key.startswith(BANK_PREFIX):
            quiz.archived_at = quiz.archived_at or utcnow()
