"""Trainer pages: import/export banks, attempts overview, essay grading, regrade, item analysis."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.catalog.queries import course_by_slug
from lms.core import audit, inputs
from lms.core.dates import from_local, to_local
from lms.core.frontmatter import SourceError
from lms.core.lifecycle import allowed, discard, found, get_or_404, load, view
from lms.core.permissions import login_required, require
from lms.extensions import db
from lms.localities.models import Locality
from lms.quizzes import operations, statistics
from lms.quizzes.models import AttemptAnswer, Quiz

MAX_UPLOAD = 2 * 1024 * 1024


@view
@login_required
def manage(slug):
    from lms.quizzes.aiken import parse_aiken
    from lms.quizzes.gift import GiftError, decode, parse_gift
    from lms.quizzes.sync import import_bank

    course = found(course_by_slug(slug))
    require(course.can_manage(current_user))
    if request.method == "POST":
        upload = request.files.get("file")
        kind = request.form.get("format", "gift")
        title = (request.form.get("title") or "").strip()[:200]
        raw = upload.read(MAX_UPLOAD + 1) if upload else b""
        error = None
        if not raw:
            error = _("Choose a GIFT or Aiken file to import.")
        elif len(raw) > MAX_UPLOAD:
            error = _("The file is too large (at most 2 MB).")
        else:
            try:
                text = decode(raw, upload.filename or "file")
                reader = parse_aiken if kind == "aiken" else parse_gift
                source = reader(text, upload.filename or "file", title or (upload.filename or "Quiz").rsplit(".", 1)[0])
            except GiftError as problem:
                error = (_("The file is not UTF-8; save it as UTF-8 and import it again.")
                         if "not UTF-8" in str(problem) else _("The file could not be read: %(e)s", e=problem))
            except SourceError as problem:
                error = _("The file could not be read: %(e)s", e=problem.message)
        if error:
            flash(error, "error")
            return render_template("quizzes/manage.html", course=course, quizzes=_quizzes(course)), 400
        quiz = import_bank(course, source, gift_text=text if kind != "aiken" else None)
        flash(_("Imported %(n)d questions into “%(t)s”.", n=len(source.questions), t=quiz.title), "info")
        return redirect(url_for("quizzes.manage", slug=course.slug), 303)
    return render_template("quizzes/manage.html", course=course, quizzes=_quizzes(course))


def _quizzes(course):
    return db.session.scalars(db.select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None))
                              .order_by(Quiz.key)).all()


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("manage")
def export_gift(quiz):
    from lms.quizzes.gift import export_gift as to_gift

    name = quiz.key.replace("/", "-")
    return Response(to_gift(quiz), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.gift"'})


def _date(value: str):
    """dd/mm/yyyy (local) → naive UTC at local midnight, or None."""
    try:
        day = dt.datetime.strptime(value.strip(), "%d/%m/%Y")
    except ValueError:
        return None
    return from_local(day)


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("manage")
def overview(quiz):
    locality = None
    locality_id = request.args.get("locality", type=int)
    if locality_id and locality_id > 0:
        locality = db.session.get(Locality, locality_id)
    since, until = _date(request.args.get("from", "")), _date(request.args.get("to", ""))
    bad = [name for name in ("from", "to") if request.args.get(name) and _date(request.args[name]) is None]
    if bad:
        flash(_("Dates are written dd/mm/yyyy."), "error")
    if until is not None:
        until += dt.timedelta(days=1)
    rows = statistics.attempts_overview(quiz, locality, since, until)
    return render_template("quizzes/overview.html", quiz=quiz, rows=rows, locality=locality, args=request.args,
                           to_local=to_local), (400 if bad else 200)


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("manage")
def grading_queue(quiz):
    if request.method == "POST":
        answer_id = inputs.form_id("answer_id")
        answer = get_or_404(AttemptAnswer, answer_id or None)
        found(answer, answer.attempt.quiz_id == quiz.id and answer.question.type == "essay")
        points = Decimal(answer.question.points) or Decimal(1)
        try:
            mark = Decimal(request.form.get("mark", "").replace(",", "."))
            operations.grade_essay(answer, mark / points, request.form.get("comment", "").strip()[:5000], current_user)
        except (InvalidOperation, operations.QuizError):
            discard()
            flash(_("The mark must be a number between 0 and %(p)s.", p=points.normalize()), "error")
            return render_template("quizzes/grading.html", quiz=quiz, answers=statistics.essays_to_grade(quiz)), 400
        flash(_("Mark saved."), "info")
        return redirect(url_for("quizzes.grading_queue", quiz_id=quiz.id), 303)
    return render_template("quizzes/grading.html", quiz=quiz, answers=statistics.essays_to_grade(quiz))


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("manage")
def regrade(quiz):
    changed = operations.regrade_quiz(quiz)
    audit.record(current_user, "quiz.regrade", quiz, changed=changed)
    flash(_("Regraded: %(n)d attempts changed.", n=changed), "info")
    return redirect(url_for("quizzes.overview", quiz_id=quiz.id), 303)


@view
@login_required
@load(Quiz, "quiz_id")
@allowed("manage")
def statistics_view(quiz):
    return render_template("quizzes/statistics.html", quiz=quiz, **statistics.item_analysis(quiz))
