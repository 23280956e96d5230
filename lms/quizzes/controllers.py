import contextlib

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from lms.core import inputs
from lms.core.db import utcnow
from lms.core.lifecycle import allowed, discard, found, light_viewer, load, save_now, view
from lms.core.permissions import login_required, wants_json
from lms.enrollment.queries import find_enrollment
from lms.extensions import db
from lms.quizzes import autosave, operations, queries, quick_page, quick_start, results
from lms.quizzes.forms import responses_from_form, shown_ids, versions_from_form
from lms.quizzes.models import Attempt, Quiz


def _locked(for_submission: bool):
    """Load the attempt under its row lock (operations.lock_attempt): a save shares it, a submission takes it."""
    return lambda attempt_id: operations.lock_attempt(attempt_id, for_submission=for_submission)


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("view")
def take(quiz):
    enrollment = find_enrollment(current_user, quiz.course)
    if enrollment is None:
        flash(_("Enrol in the course before taking its quiz."), "error")
        return redirect(url_for("catalog.course", slug=quiz.course.slug))
    now = utcnow()
    return render_template("quizzes/take.html", quiz=quiz, now=now, count=queries.question_count(quiz),
                           left=queries.attempts_left(quiz, current_user),
                           running=queries.open_attempt(quiz, current_user),
                           finished=results.finished_attempts(quiz, current_user),
                           grade=results.quiz_grade(quiz, current_user))


@light_viewer
@view
def start(quiz_id):
    """Start an attempt: the usual case by the light path (lms/quizzes/quick_start.py), the rest by the full view."""
    attempt_id = quick_start.start(quiz_id)
    if attempt_id is not None:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id), 303)
    discard()  # the light path's enrolment lock: the full view takes it again
    return _start(quiz_id=quiz_id)


@login_required
@load(Quiz, "quiz_id")
@allowed("view")
def _start(quiz):
    try:
        attempt = operations.start_attempt(quiz, current_user)
    except operations.QuizError as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("quizzes.take", quiz_id=quiz.id), 303)
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id), 303)


def _sent(raw) -> bool:
    if isinstance(raw, list):
        return any(isinstance(r, str) and r.strip() for r in raw)
    return bool(raw)


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("view")
def submit(quiz):
    """One-shot submission of the whole quiz page (untimed quizzes; kept for old pages and no-JS)."""
    # Without a running attempt only a plain quiz (untimed, one page, free, no draw) can be sent in one go.
    one_page = not quiz.time_limit_minutes and quiz.layout == "all" and quiz.navigation == "free" and not quiz.draw
    running = queries.open_attempt(quiz, current_user)
    if not one_page and running is None:
        flash(_("Start the attempt first; the time limit runs from the start."), "error")
        return redirect(url_for("quizzes.take", quiz_id=quiz.id), 303)
    questions = queries.attempt_questions(running) if running is not None else quiz.active_questions()
    request_form = request.form.copy()
    request_form.setlist("shown", [str(q.id) for q in questions])
    responses = responses_from_form(questions, request_form)
    unanswered = {q.id for q in questions if q.graded and not _sent(responses.get(q.id))}
    if unanswered:
        message = _("Please answer every question before submitting (%(n)d left).", n=len(unanswered))
        if wants_json():
            return jsonify(error="unanswered", message=message), 400
        flash(message, "error")
        return render_template("quizzes/one_page.html", quiz=quiz, questions=questions, answers=responses,
                               errors=unanswered), 400
    try:
        attempt = operations.submit_attempt(quiz, current_user, responses)
    except operations.QuizError as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("quizzes.take", quiz_id=quiz.id), 303)
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id), 303)


def _page_number(attempt) -> int:
    raw = request.values.get("page", "")
    if raw.isascii() and raw.isdigit() and int(raw) <= inputs.MAX_ID:
        return int(raw)
    return attempt.page if attempt.quiz.navigation == "sequential" else 0


def _with_quiz(attempt_id):
    """The attempt with its quiz in one statement (the page reads both)."""
    return db.session.get(Attempt, attempt_id, options=[joinedload(Attempt.quiz)])


@light_viewer
@view
def attempt(attempt_id):
    """The attempt page: the usual case by the light path (lms/quizzes/quick_page.py), the rest by the full view."""
    page = quick_page.page(attempt_id, _page_number)
    return page if page is not None else _attempt(attempt_id=attempt_id)


@login_required
@load(Attempt, "attempt_id", get=_with_quiz)
@allowed("review")
def _attempt(attempt):
    attempt_id, now = attempt.id, utcnow()
    if not attempt.finished:
        found(attempt, attempt.can_answer(current_user))  # another's unfinished attempt: not there
        if queries.is_overdue(attempt, now):
            operations.finish_attempt(attempt, now)
            flash(_("Time is up: your attempt was submitted with the answers saved in time."), "info")
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))
        try:
            page = operations.go_to_page(attempt, _page_number(attempt))
        except operations.QuizError as error:
            flash(str(error), "error")
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id))
        return render_template("quizzes/attempt_form.html", **queries.attempt_page(attempt, page, now))
    return render_template("quizzes/attempt.html", **queries.review(attempt, current_user, now))


def _save_from_request(attempt, now):
    shown = shown_ids(request.form)
    questions = queries.answerable_questions(attempt, shown)
    responses = responses_from_form(questions.values(), request.form)
    responses.update({qid: None for qid in shown - set(questions)})  # not in this attempt: reported closed
    return operations.save_answers(attempt, responses, now, questions, versions_from_form(request.form))


def _replayed() -> bool:
    """A save the service worker kept while there was no network and sends now (templates/offline/sw.js)."""
    return request.headers.get("X-Offline-Replay") == "1"


def _refused_replay(attempt):
    """Answers made offline that arrive after the attempt closed: refused, and the learner is told which
    quiz (the worker shows `message` on the page being read; the copy on the phone is dropped)."""
    message = _("Your answers to “%(quiz)s” made without a network arrived after the attempt was submitted or "
                "its time was up; they were not counted.", quiz=attempt.quiz.title)
    return jsonify(error="finished", message=message, finished=True,
                   review=url_for("quizzes.attempt", attempt_id=attempt.id)), 409


@view
def save(attempt_id):
    """Autosave (JSON) and the no-JS "save / next / previous" buttons of the attempt page.

    Autosave takes the light path (lms/quizzes/autosave.py) when the learner's own open attempt is
    saved; everything else (and every refusal) is answered by the full view."""
    if wants_json():
        answer = autosave.save_json(attempt_id)
        if answer is not None:
            return answer
        discard()  # the light path's share lock: the full view takes it again
    return _save(attempt_id=attempt_id)


@login_required
@load(Attempt, "attempt_id", get=_locked(for_submission=False))
@allowed("review")
@allowed("answer", refuse=404)
def _save(attempt):
    attempt_id, now = attempt.id, utcnow()
    try:
        result = _save_from_request(attempt, now)
    except operations.TimeUp as error:
        discard()
        operations.finish_attempt(attempt, now)
        save_now()  # the attempt is finished also when the script is told 409
        if _replayed():
            return _refused_replay(attempt)
        flash(str(error), "error")  # shown on the review page the script moves to
        if wants_json():
            return jsonify(error="time_up", message=str(error), finished=True,
                           review=url_for("quizzes.attempt", attempt_id=attempt_id)), 409
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id), 303)
    except operations.QuizError as error:
        discard()
        if _replayed():
            return _refused_replay(attempt)
        flash(str(error), "error")
        if wants_json():
            # Submitted meanwhile (another tab, or Finish while this save waited): go to the review.
            return jsonify(error="finished", message=str(error), finished=True,
                           review=url_for("quizzes.attempt", attempt_id=attempt_id)), 409
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id), 303)
    if wants_json():
        payload = jsonify(**autosave.stored_json(result), seconds_left=queries.seconds_left(attempt, now))
        return payload
    check = request.form.get("check", "")
    if check.isdigit():
        try:
            operations.check_answer(attempt, int(check), now)
        except operations.QuizError as error:
            flash(str(error), "error")
            return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, page=_page_number(attempt)), 303)
    if "finish" in request.form:
        return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, page=_page_number(attempt), confirm=1), 303)
    target = request.form.get("go", "")
    page = int(target) if target.isdigit() else _page_number(attempt)
    flash(_("Your answers are saved."), "info")
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id, page=page), 303)


@light_viewer
@view
@login_required
@load(Attempt, "attempt_id", get=_locked(for_submission=True))
@allowed("review")
@allowed("answer", refuse=404)
def finish(attempt):
    attempt_id, now = attempt.id, utcnow()
    if not attempt.finished:
        if request.form.get("shown"):
            # The answers the page still held go in first. One refused (time up: not counted) has written
            # nothing — save_answers refuses before it writes — so no savepoint is needed, and no rollback
            # may release the submit lock taken above (a second submit could finish the attempt at once).
            with contextlib.suppress(operations.QuizError):
                _save_from_request(attempt, now)
        operations.finish_attempt(attempt, now)
    elif queries.newer_than_stored(attempt, versions_from_form(request.form)):
        # Submitted before (another window): say so rather than let the review pass for these answers.
        flash(_("This attempt had already been submitted; the answers sent now were not counted."), "error")
    if wants_json():
        return jsonify(finished=True, review=url_for("quizzes.attempt", attempt_id=attempt_id))
    return redirect(url_for("quizzes.attempt", attempt_id=attempt_id), 303)
