"""Editor views for quiz settings and the course's question bank (owners and admins, like
every /author view)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms.authoring import operations as ops
from lms.authoring import quiz_settings
from lms.authoring.access import author_only, course_item, managed_course
from lms.authoring.forms import QuizSettingsForm
from lms.core.lifecycle import discard, view
from lms.extensions import db
from lms.quizzes.models import Quiz


def _per_category(form_data) -> tuple[dict[str, int], list[str]]:
    """The per-category counts posted as `draw_cat:<category>` fields, and what was wrong with them."""
    counts, errors = {}, []
    for name, raw in form_data.items():
        if not name.startswith("draw_cat:"):
            continue
        raw = raw.strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) > 10_000:
            errors.append(_("Enter a whole number of questions for each category (or leave it empty)."))
            continue
        counts[name.removeprefix("draw_cat:")] = int(raw)
    return counts, errors


def _problems(form, per_category, category_errors) -> list[str]:
    """Checks across fields, in the trainer's language, before the quiz parser sees the file."""
    problems = list(category_errors)
    if form.opens.data and form.closes.data and form.closes.data <= form.opens.data:
        problems.append(_("The closing time must be after the opening time."))
    if form.draw_mode.data == "count" and not form.draw_count.data:
        problems.append(_("Say how many questions to draw at random."))
    if form.draw_mode.data == "category" and not any(per_category.values()):
        problems.append(_("Give at least one category a number of questions to draw."))
    if form.banks.data and form.draw_mode.data == "all":
        problems.append(_("A quiz that draws from banks needs a number of questions (at random, or per category)."))
    return problems


@view
@author_only
def quiz_settings_view(slug, quiz_id):
    course = managed_course(slug)
    quiz = course_item(Quiz, quiz_id, course)
    if not quiz_settings.is_markdown_quiz(quiz):
        flash(_("This quiz comes from a GIFT or Aiken file, which holds questions only. Use it as a question bank: "
                "in another quiz's settings, choose it under “Draw from these question banks”."), "info")
        return redirect(url_for("authoring.question_bank", slug=slug))
    others = db.session.scalars(select(Quiz).where(Quiz.course_id == course.id, Quiz.id != quiz.id,
                                                   Quiz.archived_at.is_(None)).order_by(Quiz.key)).all()
    current = quiz_settings.settings_of(quiz)
    form = QuizSettingsForm(data=None if request.method == "POST" else {**current, "opened": ops.fingerprint(quiz)})
    form.banks.choices = [(other.key, f"{other.title} ({other.key})") for other in others]
    chosen_banks = form.banks.data if request.method == "POST" else current["banks"]
    categories = quiz_settings.categories_for(quiz, chosen_banks or [])
    per_category = current["per_category"]
    status = 200
    if request.method == "POST":
        per_category, category_errors = _per_category(request.form)
        if "refresh" in request.form:  # only show the chosen banks' categories; nothing is saved
            return render_template("authoring/quiz_settings.html", course=course, quiz=quiz, form=form,
                                   categories=categories, per_category=per_category)
        problems = _problems(form, per_category, category_errors) if form.validate_on_submit() else None
        if problems:
            for problem in problems:
                flash(problem, "error")
        if problems == []:
            values = {field.name: field.data for field in form}
            values["per_category"] = per_category
            try:
                ops.check_fresh(quiz, form.opened.data)
                ops.save_quiz_text(quiz, quiz_settings.rewrite_front_matter(quiz.source_text or "", values))
            except ops.StaleEdit as error:
                flash(str(error), "error")
                form.opened.data = ops.fingerprint(quiz)
                status = 409
            except ops.EditError as error:
                discard()
                flash(str(error), "error")
                status = 400
            else:
                flash(_("Quiz settings saved."), "success")
                return redirect(url_for("authoring.course", slug=slug))
        else:
            status = 400
    return render_template("authoring/quiz_settings.html", course=course, quiz=quiz, form=form, categories=categories,
                           per_category=per_category), status


@view
@author_only
def question_bank(slug):
    course = managed_course(slug)
    questions = quiz_settings.course_questions(course)
    categories, tags = quiz_settings.bank_summary(questions)
    category = request.args.get("category")
    if category is not None and category not in categories:
        category = None
    tag, words = request.args.get("tag", "").strip(), request.args.get("q", "").strip()
    shown = quiz_settings.filter_questions(questions, category, tag, words)
    quizzes = {q.id: q for q in db.session.scalars(select(Quiz).where(Quiz.course_id == course.id))}
    return render_template("authoring/question_bank.html", course=course, questions=shown, total=len(questions),
                           categories=categories, tags=tags, category=category, tag=tag, words=words, quizzes=quizzes,
                           type_labels=quiz_settings.TYPE_LABELS)
