from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.core.permissions import login_required, require
from lms.enrollment import operations as enrollment_ops
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import Attempt, Quiz


def _quiz_or_404(quiz_id) -> Quiz:
    quiz = db.session.get(Quiz, quiz_id)
    if quiz is None:
        abort(404)
    require(quiz.can_view(current_user))
    return quiz


@login_required
def take(quiz_id):
    quiz = _quiz_or_404(quiz_id)
    enrollment = enrollment_ops.find_enrollment(current_user, quiz.course)
    if enrollment is None:
        flash(_("Enrol in the course before taking its quiz."), "error")
        return redirect(url_for("catalog.course", slug=quiz.course.slug))
    left = operations.attempts_left(quiz, current_user)
    best = operations.best_attempt(quiz, current_user)
    return render_template("quizzes/take.html", quiz=quiz, questions=quiz.active_questions(), left=left, best=best,
                           answers={}, errors=set())


@login_required
def submit(quiz_id):
    quiz = _quiz_or_404(quiz_id)
    questions = quiz.active_questions()
    responses = {q.id: request.form.getlist(f"q{q.id}") for q in questions}
    unanswered = {q.id for q in questions if not responses[q.id]}
    if unanswered:
        flash(_("Please answer every question before submitting (%(n)d left).", n=len(unanswered)), "error")
        return render_template("quizzes/take.html", quiz=quiz, questions=questions, answers=responses,
                               errors=unanswered, left=operations.attempts_left(quiz, current_user),
                               best=operations.best_attempt(quiz, current_user)), 400
    try:
        attempt = operations.submit_attempt(quiz, current_user, responses)
    except operations.QuizError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("quizzes.take", quiz_id=quiz.id), 303)
    db.session.commit()
    return redirect(url_for("quizzes.attempt", attempt_id=attempt.id), 303)


@login_required
def attempt(attempt_id):
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None:
        abort(404)
    require(attempt.can_view(current_user))
    if attempt.submitted_at is None:
        abort(404)
    answers = {answer.question_id: answer for answer in attempt.answers}
    enrollment = attempt.enrollment
    return render_template("quizzes/attempt.html", attempt=attempt, quiz=attempt.quiz, answers=answers,
                           questions=[a.question for a in sorted(attempt.answers, key=lambda a: a.question.position)],
                           left=operations.attempts_left(attempt.quiz, current_user), enrollment=enrollment)
