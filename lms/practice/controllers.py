"""Server-driven step pages of a simulation: every action is a form POST that redirects back to the
lesson page (so it works without JavaScript; static/js/practice.js only swaps the panel in place)."""

from functools import wraps

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from lms.catalog import queries as catalog_queries
from lms.catalog.models import Lesson
from lms.core.lifecycle import discard, found, get_or_404, view
from lms.core.permissions import login_required, require
from lms.enrollment import queries as enrollment_queries
from lms.practice import operations, queries
from lms.practice.queries import funnel as funnel_of

ANCHOR = "practice"


def simulation_context(lesson) -> dict:
    """What the lesson page needs to draw a simulation for the current user (see catalog.controllers.lesson)."""
    steps = queries.steps_of(lesson)
    run = queries.current_run(current_user, lesson) if current_user.is_authenticated else None
    if run is not None and run.finished_at is None and not queries.is_under_way(run, lesson):
        run = None  # begun before the steps were edited: start again
    step = steps[run.step] if run is not None and run.finished_at is None and run.step < len(steps) else None
    row = run.step_row(run.step) if step is not None else None
    return {"simulation": lesson.simulation or {}, "steps": steps, "run": run, "step": step, "row": row}


def _simulation_or_404(slug, lesson_id):
    course = found(catalog_queries.course_by_slug(slug))
    lesson = get_or_404(Lesson, lesson_id, course_id=course.id)
    found(lesson, lesson.is_simulation)
    require(lesson.can_view(current_user) and lesson.archived_at is None)
    return course, lesson


def _back(course, lesson):
    return redirect(url_for("catalog.lesson", slug=course.slug, lesson_id=lesson.id, _anchor=ANCHOR), 303)


def _position() -> int | None:
    return request.form.get("step", type=int)


def _stale(course, lesson):
    discard()
    flash(_("This step was already answered (in another tab?). Here is where you are now."), "info")
    return _back(course, lesson)


@view
@login_required
def start(slug, lesson_id):
    course, lesson = _simulation_or_404(slug, lesson_id)
    found(lesson, bool(queries.steps_of(lesson)))
    operations.start(current_user, lesson)
    return _back(course, lesson)


def _bad_request(message):
    error = BadRequest(description=message)
    error.lms_message = True
    return error


def in_run(function):
    """Load the simulation, the user's current run and the step position the form names; a missing run or
    position, or an answer the run has moved past (PracticeError), sends the user back to where they are.
    The view is called as `function(course, lesson, run, position)`; the user then goes back to the lesson
    page (the lifecycle commits the run)."""

    @wraps(function)
    def wrapper(slug, lesson_id):
        course, lesson = _simulation_or_404(slug, lesson_id)
        run = queries.current_run(current_user, lesson)
        position = _position()
        if run is None or position is None:
            return _stale(course, lesson)
        try:
            function(course, lesson, run, position)
        except operations.PracticeError as error:
            if str(error) == "choice":
                discard()
                raise _bad_request(_("Choose one of the buttons on the screen.")) from None
            return _stale(course, lesson)
        return _back(course, lesson)

    return wrapper


@view
@login_required
@in_run
def answer(course, lesson, run, position):
    operations.answer(run, lesson, position, choice=request.form.get("choice", type=int),
                      typed=request.form.get("value", ""))


@view
@login_required
@in_run
def hint(course, lesson, run, position):
    operations.take_hint(run, lesson, position)


@view
@login_required
@in_run
def next_step(course, lesson, run, position):
    enrollment = enrollment_queries.find_enrollment(current_user, course)
    run = operations.advance(run, lesson, position, enrollment)
    if run.finished_at is not None and enrollment is not None:
        flash(_("Practice finished. It counts as done in your course."), "success")


@view
@login_required
def funnel(slug, lesson_id):
    course, lesson = _simulation_or_404(slug, lesson_id)
    require(course.can_manage(current_user))
    steps, summary = funnel_of(lesson)
    return render_template("practice/funnel.html", course=course, lesson=lesson, steps=steps, summary=summary)
