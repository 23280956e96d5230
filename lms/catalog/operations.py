"""Applying course sources to the database. Flush only; the CLI commits per course."""

import datetime
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import undefer

from lms.catalog.models import Course, Lesson, Module
from lms.catalog.queries import code_taken_by

# Rendering and revisions are the catalog's API for every writer of lessons (import here, the editor in
# authoring and practice); these names stay importable from here for the catalog's own callers.
from lms.catalog.rendering import (  # noqa: F401
    ASSET_URL,
    LESSON_KEY_URL,
    asset_resolver,
    lesson_link_map,
    record_revision,
    render_course_description,
    render_lesson,
    render_module,
)
from lms.catalog.source import CourseSource, code_taken_error
from lms.core.db import utcnow
from lms.core.files import get_store
from lms.core.frontmatter import read_text
from lms.core.markdown import RENDERER_VERSION, render, render_inline
from lms.core.text import fold
from lms.enrollment.models import LessonProgress
from lms.extensions import db
from lms.practice.render import simulation_data
from lms.quizzes.markdown_format import QuizSource
from lms.quizzes.models import Quiz
from lms.quizzes.sync import BANK_PREFIX, apply_settings, sync_questions


def _resolver(source: CourseSource, file: Path):
    """Map a link written in `file` to the served URL (course assets, other lessons)."""
    lessons = {(m.folder_stem, lesson.file_stem): lesson.key for m in source.modules for lesson in m.lessons}
    return asset_resolver(source.slug, file.parent.relative_to(source.path).as_posix(), lessons)


def import_course(source: CourseSource, force: bool = False) -> str:
    """Create or update a course from its source; returns 'created', 'updated' or 'unchanged'.

    Raises SourceError, before changing anything, when its code is another course's. Files go to
    the store last, so a course the database refuses leaves its previous assets in place too."""
    other = code_taken_by(source.slug, source.meta["code"])
    if other is not None:
        raise code_taken_error(source.path, source.meta["code"], other.slug, other.title)
    course = db.session.scalar(select(Course).where(Course.slug == source.slug))
    # A course imported before the round-trip fields existed (empty front_matter) is re-applied once.
    if course is not None and course.source_hash == source.content_hash and not force and course.front_matter:
        # Unchanged files: keep what is there (including browser edits made since); only
        # refresh HTML written by an older renderer.
        if not _rendered_current(course):
            rerender_course(course)
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
    course.min_score = meta.get("min_score")
    course.min_study_minutes = meta.get("min_study_minutes")
    course.tags = meta["tags"]
    course.description_md = source.description
    course.description_html = render(source.description, _resolver(source, source.path / "course.md"))
    course.search_text = fold(" ".join([meta["title"], meta["code"], *meta["tags"], source.description]))
    course.source_path = str(source.path)
    course.source_hash = source.content_hash
    course.front_matter = _json_safe(source.raw_meta)
    db.session.flush()

    modules = _sync_modules(course, source)
    _sync_lessons(course, source, modules)
    _sync_quizzes(course, source, modules)
    db.session.flush()
    _copy_assets(source)
    return outcome


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


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
        module.folder_stem = module_source.folder_stem
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
            lesson = existing.pop(lesson_source.key, None)
            source_text = lesson_source.simulation.text if lesson_source.simulation else None
            changed = lesson is None or (lesson.title, lesson.minutes, lesson.body_md, lesson.source_text) != (
                lesson_source.title, lesson_source.minutes, lesson_source.body, source_text)
            if lesson is None:
                lesson = Lesson(course=course, key=lesson_source.key, version=0)
            lesson.module = module
            lesson.module_position = module.position
            lesson.position = lesson_source.position
            lesson.title = lesson_source.title
            lesson.minutes = lesson_source.minutes
            lesson.body_md = lesson_source.body
            shown = lesson_source.simulation.intro if lesson_source.simulation else lesson_source.body
            lesson.body_html = render(shown, _resolver(source, lesson_source.path))
            lesson.renderer_version = RENDERER_VERSION
            lesson.file_stem = lesson_source.file_stem
            lesson.kind = lesson_source.kind
            lesson.source_text = source_text
            lesson.simulation = (simulation_data(lesson_source.simulation, _resolver(source, lesson_source.path))
                                 if lesson_source.simulation else None)
            lesson.archived_at = None
            db.session.add(lesson)
            if changed:
                # Import wins over browser edits, but the text it replaces stays in the history.
                record_revision(lesson, origin="import")
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
            quiz.source_text = read_text(Path(quiz_source.path))
            quiz.source_name = Path(quiz_source.path).name
            db.session.add(quiz)
            db.session.flush()
            sync_questions(quiz, quiz_source)
    for bank_source in source.banks:
        path = Path(bank_source.path)
        quiz = existing.pop(BANK_PREFIX + path.stem, None) or Quiz(course=course, key=BANK_PREFIX + path.stem)
        quiz.module = None
        apply_settings(quiz, bank_source, course.passing_score)
        quiz.source_text, quiz.source_name = read_text(path), path.name
        db.session.add(quiz)
        db.session.flush()
        sync_questions(quiz, bank_source)
    for quiz in existing.values():
        # Banks a trainer uploaded after the folder was exported are not in it yet; keep them.
        if not quiz.key.startswith(BANK_PREFIX):
            quiz.archived_at = quiz.archived_at or utcnow()


def rerender_course(course: Course) -> int:
    """Render everything of the course again from its stored Markdown (no source folder needed)."""
    links = lesson_link_map(course)
    render_course_description(course, links)
    for module in course.modules:
        render_module(module, links)
    lessons = db.session.scalars(select(Lesson).where(Lesson.course_id == course.id)
                                 .options(undefer(Lesson.body_md), undefer(Lesson.source_text))).all()
    for lesson in lessons:
        render_lesson(lesson, links)
    for quiz in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id)):
        for question in quiz.questions:
            question.text_html = render(question.text_md)
            question.options = [{**option, "html": render_inline(option.get("md", ""))} for option in question.options]
    db.session.flush()
    return len(lessons)


def rerender_stale(everything: bool = False) -> int:
    """Re-render the courses with HTML from an older RENDERER_VERSION (or all of them)."""
    statement = select(Course)
    if not everything:
        statement = statement.where(exists().where(Lesson.course_id == Course.id, Lesson.renderer_version != RENDERER_VERSION))
    return sum(rerender_course(course) for course in db.session.scalars(statement).all())
