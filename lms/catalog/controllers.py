from types import SimpleNamespace

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from lms.catalog import queries
from lms.catalog.models import Lesson
from lms.core.controllers import send_stored
from lms.core.lifecycle import found, light_viewer, view, viewer_id
from lms.core.page_cache import render_page
from lms.core.permissions import require
from lms.core.signals import answer, lesson_viewed, prerequisites_asked, programs_asked
from lms.enrollment import queries as enrollment_queries
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.quizzes.results import passed_quiz_ids
from lms.search import queries as search_queries


@view
def index():
    query = request.args.get("q", "").strip()[:200]
    courses = queries.published_courses(query)
    lessons = None
    if query:
        courses, lessons = _searched(query, courses)
    # A resident should not have to scroll past four courses for officials: the viewer's audience first
    # (visitors are taken for residents, the programme's largest audience), alphabetical within.
    viewer = current_user.audience if current_user.is_authenticated else "citizen"
    courses = sorted(courses, key=lambda course: not (not course.audience or viewer in course.audience))
    # Programs are few (a handful per province): list them above the courses, not when searching.
    programs = [] if query else answer(programs_asked, None)  # programs answers
    return render_template("catalog/index.html", courses=courses, query=query, programs=programs, lessons=lessons)


def _searched(query: str, by_title: list):
    """The catalogue box uses the one search (lms.search): courses whose title, tags or lessons' text
    match, best first, then those its code/tag match alone finds; and the matching lessons themselves."""
    course_hits = search_queries.search(query, current_user, kind="course")
    lessons = search_queries.search(query, current_user, kind="lesson")
    ranked = list(dict.fromkeys(hit.course_id for hit in [*course_hits.hits, *lessons.hits] if hit.course_id))
    found = {course.id: course for course in queries.published_courses_by_id(ranked)}
    courses = [found[i] for i in ranked if i in found]
    return courses + [course for course in by_title if course.id not in found], lessons


def _course_or_404(slug):
    course = found(queries.course_by_slug(slug))
    require(course.can_view(current_user))
    return course


@view
def course(slug):
    course = _course_or_404(slug)
    enrollment = enrollment_queries.find_enrollment(current_user, course)
    done = enrollment_queries.completed_lesson_ids(enrollment)
    quizzes = db.session.scalars(db.select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None))).all()
    passed = passed_quiz_ids(current_user.id, [q.id for q in quizzes]) if enrollment and quizzes else set()
    lessons = course.active_lessons()
    next_lesson = enrollment_queries.resume_lesson(enrollment, lessons, done) if enrollment else None
    if next_lesson is not None and next_lesson.id in done:
        next_lesson = None  # every lesson read: the next thing to do is the quiz, then the certificate
    next_quiz = next((quiz for quiz in quizzes if quiz.id not in passed), None)
    return render_template(
        "catalog/course.html", course=course, enrollment=enrollment, done=done, quizzes=quizzes, passed=passed,
        lessons=lessons, next_lesson=next_lesson, next_quiz=next_quiz,
        progress=enrollment_queries.progress_by_enrollment([enrollment]).get(enrollment.id, 0) if enrollment else 0,
        can_enrol=course.can_enrol(current_user), programs=answer(programs_asked, course),
        prerequisites=answer(prerequisites_asked, course),
    )


@light_viewer
@view
def lesson(slug, lesson_id):
    """The lesson page. A published, active page lesson (nearly every view) is drawn from one row of plain
    values; drafts, archived lessons and simulations take the path through the ORM objects, which asks
    for the viewer's permissions."""
    row = queries.lesson_page_row(slug, lesson_id, viewer_id())
    if row is None or row.status != "published" or row.archived_at is not None or row.kind == "simulation":
        return _lesson_through_objects(slug, lesson_id)
    course = SimpleNamespace(id=row.course_id, slug=row.slug, title=row.course_title, is_published=True)
    lesson = SimpleNamespace(id=row.id, title=row.title, minutes=row.minutes, body_html=row.body_html)
    enrolled = row.enrollment_id is not None
    if enrolled and not _downloading() and enrollment_queries.visit_changes_something(
            row.id, row.progress_id is not None, row.last_lesson_id, row.last_seen_at):
        # A visit to write (the first view of a lesson, or of another one than last time): the objects
        # the listener changes, loaded only then.
        enrollment, progress = enrollment_queries.enrollment_and_progress(current_user, course)
        lesson_viewed.send(enrollment, lesson=db.session.get(Lesson, row.id), progress=progress)
    return _lesson_page(course, lesson, enrolled, row.completed_at is not None, row.version, row.unread,
                        queries.outline_items(row))


def _downloading() -> bool:
    # A course being downloaded for offline reading (lms/offline) fetches every lesson at once: that is not
    # the learner reading them, so "continue where I left off" must not move to the last one fetched.
    return request.environ.get("HTTP_X_OFFLINE_COPY") == "1"  # the header, without building the Headers view


def _lesson_through_objects(slug, lesson_id):
    course, lesson = queries.course_and_lesson(slug, lesson_id)
    if lesson is None:
        _course_or_404(slug)  # the same answer as before for a missing lesson (a hidden course: 403)
    found(lesson)
    require(course.can_view(current_user))
    require(lesson.can_view(current_user))
    enrollment, progress = enrollment_queries.enrollment_and_progress(current_user, course)
    if enrollment is not None and not _downloading():
        lesson_viewed.send(enrollment, lesson=lesson, progress=progress)  # a visit; the lifecycle commits it
    is_done = progress.get(lesson.id) is not None
    if lesson.is_simulation:  # practice simulations (issue 15) draw their current step instead of a body
        from lms.practice.controllers import simulation_context

        context = {**_pager_context(course, lesson, enrollment is not None, is_done), "enrollment": enrollment}
        return render_template("practice/simulation.html", **context, **simulation_context(lesson))
    return _lesson_page(course, lesson, enrollment is not None, is_done, lesson.version)


def _pager_context(course, lesson, enrolled: bool, is_done: bool, lessons=None) -> dict:
    if lessons is None:
        lessons = queries.lesson_outline(course.id)
    index = next((i for i, item in enumerate(lessons) if item.id == lesson.id), None)
    previous_lesson = lessons[index - 1] if index else None
    next_lesson = lessons[index + 1] if index is not None and index + 1 < len(lessons) else None
    # After the last lesson the course's quiz is what comes next: the done button leads there.
    quiz_after = _first_quiz(course) if enrolled and next_lesson is None else None
    return {"course": course, "lesson": lesson, "enrollment": enrolled, "is_done": is_done,
            "previous_lesson": previous_lesson, "next_lesson": next_lesson, "quiz_after": quiz_after,
            "position": (index or 0) + 1, "total": len(lessons)}


def _lesson_page(course, lesson, enrolled: bool, is_done: bool, version: int, unread: int | None = None,
                 outline=None):
    context = _pager_context(course, lesson, enrolled, is_done, outline)
    page = render_page("catalog/lesson.html", _lesson_page_key(context), unread=unread, **context)
    # The service worker compares this with its stored copy's to tell a returning reader the lesson changed.
    return page, {"X-Lesson-Version": str(version)}


def _lesson_page_key(context) -> tuple:
    """Every value catalog/lesson.html shows, for lms.core.page_cache: the lesson's HTML itself, not its
    version, so that whatever changes it (an edit, a re-import, a new renderer) is seen at once."""
    course, lesson, quiz = context["course"], context["lesson"], context["quiz_after"]
    return (course.id, course.slug, course.title, course.is_published,
            lesson.id, lesson.title, lesson.minutes, lesson.body_html,
            context["enrollment"], context["is_done"], context["position"], context["total"],
            tuple(context["previous_lesson"] or ()), tuple(context["next_lesson"] or ()),
            (quiz.id, quiz.title) if quiz is not None else None)


def _first_quiz(course):
    return db.session.scalar(db.select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None))
                             .order_by(Quiz.id).limit(1))


@view
def lesson_by_key(slug, key):
    """Links between lessons are written by file name; they land here and go to the lesson."""
    course = _course_or_404(slug)
    lesson = found(db.session.scalar(db.select(Lesson).where(Lesson.course_id == course.id, Lesson.key == key)))
    require(lesson.can_view(current_user))
    return redirect(url_for("catalog.lesson", slug=slug, lesson_id=lesson.id))


@view
def asset(slug, path):
    course = _course_or_404(slug)
    return send_stored(f"courses/{course.slug}/assets/{path}")

