"""The browser editor for trainers: every view needs a trainer/admin, and every course view
`course.can_manage(current_user)` (owners and admins)."""

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import undefer

from lms.accounts.queries import find_by_login
from lms.authoring import operations as ops
from lms.authoring.access import author_only, course_item, managed_course
from lms.authoring.forms import CourseForm, LessonForm, ModuleForm, NewCourseForm, OwnerForm, QuizForm, TitleForm
from lms.authoring.simulations import add_simulation
from lms.catalog.models import Course, CourseOwner, Lesson, LessonRevision, Module
from lms.catalog.queries import course_by_slug
from lms.catalog.rendering import asset_resolver, lesson_link_map
from lms.core.lifecycle import discard, get_or_404, view
from lms.core.markdown import render
from lms.core.permissions import can, require
from lms.core.text import nfc
from lms.extensions import db
from lms.practice.queries import step_changes
from lms.quizzes.models import Quiz


@view
@author_only
def index():
    statement = select(Course).order_by(Course.title_folded)
    if not can("administer"):
        statement = statement.join(CourseOwner).where(CourseOwner.user_id == current_user.id)
    return render_template("authoring/index.html", courses=db.session.scalars(statement).all(), form=NewCourseForm())


@view
@author_only
def create_course():
    form = NewCourseForm()
    if form.validate_on_submit():
        try:
            course = ops.create_course(form.title.data.strip(), (form.slug.data or "").strip(), current_user)
        except ops.EditError as error:
            flash(str(error), "error")
        else:
            flash(_("Course created as a draft. Add modules and lessons, then publish it."), "success")
            return redirect(url_for("authoring.course", slug=course.slug))
    else:
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "error")
    return render_template("authoring/index.html", courses=[], form=form), 400


@view
@author_only
def preview():
    """Markdown → the same sanitised HTML learners get, for the editor's live preview."""
    payload = request.get_json(silent=True) or {}
    text = payload.get("markdown", request.form.get("markdown", ""))
    if not isinstance(text, str) or len(text) > 500_000:
        return jsonify(error="bad_request", message=_("The text is too long to preview.")), 400
    slug = payload.get("slug") or ""
    course = course_by_slug(slug) if slug else None
    if course is not None and not course.can_manage(current_user):
        abort(403)
    base = str(payload.get("module") or "module") if payload.get("depth", 1) else ""
    resolver = asset_resolver(course.slug, base, lesson_link_map(course)) if course else None
    return jsonify(html=render(text, resolver))


@view
@author_only
def course(slug):
    course = managed_course(slug)
    form = CourseForm(obj=None if request.method == "POST" else _course_data(course))
    if request.method == "GET":
        form.opened.data = ops.fingerprint(course)
    if request.method == "POST" and form.validate_on_submit():
        try:
            ops.check_fresh(course, form.opened.data)
            ops.update_course(course, form.data)
        except ops.StaleEdit as error:
            flash(str(error), "error")
            form.opened.data = ops.fingerprint(course)
            return _course_page(course, form), 409
        except ops.EditError as error:
            flash(str(error), "error")
            discard()
            return _course_page(course, form), 400
        flash(_("Course saved."), "success")
        return redirect(url_for("authoring.course", slug=course.slug))
    return _course_page(course, form), 400 if request.method == "POST" else 200


class _Obj:
    def __init__(self, **values):
        self.__dict__.update(values)


def _course_data(course):
    return _Obj(title=course.title, code=course.code, program=course.program, audience=course.audience, hours=course.hours,
                passing_score=course.passing_score, certificate=course.certificate, valid_months=course.valid_months,
                tags=", ".join(course.tags or []), description=course.description_md)


def _course_page(course, form):
    quizzes = db.session.scalars(select(Quiz).where(Quiz.course_id == course.id, Quiz.archived_at.is_(None))).all()
    return render_template("authoring/course.html", course=course, form=form, modules=ops.active_modules(course),
                           quizzes=quizzes, assets=ops.course_assets(course), title_form=TitleForm(),
                           owner_form=OwnerForm(), can_share=course.can_share(current_user))


@view
@author_only
def set_status(slug):
    course = managed_course(slug)
    try:
        ops.set_status(course, request.form.get("status", ""))
    except ops.EditError as error:
        flash(str(error), "error")
    else:
        flash(_("The course is published.") if course.is_published else _("The course is a draft again."), "success")
    return redirect(url_for("authoring.course", slug=slug))


@view
@author_only
def add_owner(slug):
    course = managed_course(slug)
    require(course.can_share(current_user))
    form = OwnerForm()
    user = find_by_login(form.login.data or "") if form.validate_on_submit() else None
    if user is None:
        flash(_("No account with that e-mail or phone number."), "error")
    else:
        try:
            ops.add_owner(course, user)
        except ops.EditError as error:
            flash(str(error), "error")
        else:
            flash(_("%(name)s can now edit this course.", name=user.full_name), "success")
    return redirect(url_for("authoring.course", slug=slug))


@view
@author_only
def remove_owner(slug, user_id):
    course = managed_course(slug)
    require(course.can_share(current_user))
    ops.remove_owner(course, user_id)
    flash(_("Access removed."), "success")
    return redirect(url_for("authoring.course", slug=slug))


@view
@author_only
def upload(slug):
    course = managed_course(slug)
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise ops.EditError(_("Choose a file to upload."))
        name, snippet = ops.store_upload(course, file.filename, file.read(), current_app.config["LMS_UPLOAD_MAX_BYTES"])
    except ops.EditError as error:
        if request.accept_mimetypes.best == "application/json":
            return jsonify(error="bad_file", message=str(error)), 400
        flash(str(error), "error")
        return redirect(_local(request.form.get("next")) or url_for("authoring.course", slug=slug))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(name=name, markdown=snippet)
    flash(_("Uploaded %(name)s. Paste this into a lesson: %(snippet)s", name=name, snippet=snippet), "success")
    return redirect(_local(request.form.get("next")) or url_for("authoring.course", slug=slug))


def _local(url):
    return url if url and url.startswith("/author/") else None


@view
@author_only
def add_module(slug):
    course = managed_course(slug)
    form = TitleForm()
    if not form.validate_on_submit():
        flash(_("Enter a title."), "error")
        return redirect(url_for("authoring.course", slug=slug))
    ops.add_module(course, form.title.data.strip())
    return redirect(url_for("authoring.course", slug=slug))


@view
@author_only
def module(slug, module_id):
    course = managed_course(slug)
    module = course_item(Module, module_id, course)
    form = ModuleForm(obj=None if request.method == "POST" else _Obj(title=module.title, intro=module.intro_md,
                                                                     opened=ops.fingerprint(module)))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                ops.check_fresh(module, form.opened.data)
            except ops.StaleEdit as error:
                flash(str(error), "error")
                form.opened.data = ops.fingerprint(module)
                return render_template("authoring/module.html", course=course, module=module, form=form), 409
            ops.update_module(module, form.title.data, form.intro.data)
            flash(_("Module saved."), "success")
            return redirect(url_for("authoring.course", slug=slug))
        return render_template("authoring/module.html", course=course, module=module, form=form), 400
    return render_template("authoring/module.html", course=course, module=module, form=form)


def _move(slug, model, item_id, anchor):
    """Move a module or a lesson up or down; back to the course outline, at the item."""
    course = managed_course(slug)
    if not ops.move(course_item(model, item_id, course), request.form.get("direction", "")):
        flash(_("This item was removed from the course, so it cannot be moved."), "error")
        return redirect(url_for("authoring.course", slug=slug))
    return redirect(url_for("authoring.course", slug=slug) + f"#{anchor}-{item_id}")


@view
@author_only
def move_module(slug, module_id):
    return _move(slug, Module, module_id, "module")


@view
@author_only
def move_lesson(slug, lesson_id):
    return _move(slug, Lesson, lesson_id, "lesson")


def _titled(slug, module_id):
    """The module a lesson or quiz is added to, and the title typed (None, said to the author, when empty)."""
    module = course_item(Module, module_id, managed_course(slug))
    form = TitleForm()
    if not form.validate_on_submit():
        flash(_("Enter a title."), "error")
        return module, None
    return module, form.title.data


@view
@author_only
def add_lesson(slug, module_id):
    module, title = _titled(slug, module_id)
    if title is None:
        return redirect(url_for("authoring.course", slug=slug))
    if request.form.get("kind") == "simulation":  # a practice simulation (lms/practice), edited as its file
        lesson = add_simulation(module, title, current_user)
    else:
        lesson = ops.add_lesson(module, title, current_user)
    return redirect(url_for("authoring.lesson", slug=slug, lesson_id=lesson.id))


@view
@author_only
def add_quiz(slug, module_id):
    module, title = _titled(slug, module_id)
    if title is None:
        return redirect(url_for("authoring.course", slug=slug))
    try:
        quiz = ops.add_quiz(module, nfc(title))
    except ops.EditError as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("authoring.course", slug=slug))
    flash(_("Quiz created from an example; replace the example question with yours."), "success")
    return redirect(url_for("authoring.quiz", slug=slug, quiz_id=quiz.id))


@view
@author_only
def archive_lesson(slug, lesson_id):
    course = managed_course(slug)
    lesson = course_item(Lesson, lesson_id, course)
    title = lesson.title
    ops.archive_lesson(lesson)
    flash(_("Lesson “%(title)s” removed from the course.", title=title), "success")
    return redirect(url_for("authoring.course", slug=slug))


@view
@author_only
def lesson(slug, lesson_id):
    course = managed_course(slug)
    lesson = course_item(Lesson, lesson_id, course, options=[undefer(Lesson.body_md)])
    if request.method == "GET":
        form = LessonForm(obj=_Obj(title=lesson.title, minutes=lesson.minutes, body=lesson.body_md, version=lesson.version))
        return _lesson_page(course, lesson, form)
    form = LessonForm()
    if not form.validate_on_submit():
        return _lesson_page(course, lesson, form), 400
    if form.preview.data:
        return _lesson_page(course, lesson, form, preview=True)
    try:
        expected = int(form.version.data)
    except (TypeError, ValueError):
        expected = -1
    title, minutes = form.title.data, form.minutes.data
    if lesson.is_simulation:  # a practice simulation is edited as its whole file (lms/practice/format.py)
        from lms.practice.format import simulation_problems

        parsed, problems = simulation_problems(lesson, form.body.data or "")
        if problems:
            for problem in problems:
                flash(problem, "error")
            return _lesson_page(course, lesson, form), 400
        title, minutes = parsed.title, parsed.minutes
    try:
        ops.save_lesson(lesson, title=title, minutes=minutes, body_md=form.body.data or "",
                        expected_version=expected, author=current_user)
    except ops.StaleEdit as error:
        discard()
        lesson = course_item(Lesson, lesson_id, course, options=[undefer(Lesson.body_md)])
        flash(str(error), "error")
        # The trainer's text stays in the form; the version moves on so saving again is a
        # deliberate overwrite of what they have now seen.
        form.version.data = str(lesson.version)
        return _lesson_page(course, lesson, form, conflict=True), 409
    flash(_("Lesson saved (version %(n)d).", n=lesson.version), "success")
    return redirect(url_for("authoring.lesson", slug=slug, lesson_id=lesson.id))


def _lesson_page(course, lesson, form, preview=False, conflict=False):
    preview_html = render(form.body.data or "", asset_resolver(course.slug, lesson.module.folder_stem or lesson.module.key,
                                                               lesson_link_map(course)))
    return render_template("authoring/lesson.html", course=course, lesson=lesson, form=form, preview_html=preview_html,
                           show_preview=preview, conflict=conflict, assets=ops.course_assets(course))


@view
@author_only
def history(slug, lesson_id):
    course = managed_course(slug)
    lesson = course_item(Lesson, lesson_id, course)
    return render_template("authoring/history.html", course=course, lesson=lesson, revisions=lesson.revisions)


def _revision(lesson, revision_id) -> LessonRevision:
    return get_or_404(LessonRevision, revision_id, lesson_id=lesson.id)


@view
@author_only
def revision(slug, lesson_id, revision_id):
    course = managed_course(slug)
    lesson = course_item(Lesson, lesson_id, course, options=[undefer(Lesson.body_md)])
    revision = _revision(lesson, revision_id)
    diff = ops.diff_html(revision, lesson.title, lesson.body_md or "",
                         (_("Version %(n)d", n=revision.version), _("Current (version %(n)d)", n=lesson.version)))
    # A simulation's file is steps: say which steps changed before the line-by-line text.
    steps = step_changes(revision.body_md, lesson.body_md or "") if lesson.is_simulation else None
    return render_template("authoring/revision.html", course=course, lesson=lesson, revision=revision, diff=diff,
                           steps=steps)


@view
@author_only
def revert(slug, lesson_id, revision_id):
    course = managed_course(slug)
    lesson = course_item(Lesson, lesson_id, course, options=[undefer(Lesson.body_md)])
    revision = _revision(lesson, revision_id)
    try:
        ops.revert_lesson(lesson, revision, request.form.get("version", -1, type=int), current_user)
    except ops.StaleEdit as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("authoring.history", slug=slug, lesson_id=lesson_id))
    flash(_("Lesson reverted to version %(old)d (saved as version %(n)d).", old=revision.version, n=lesson.version), "success")
    return redirect(url_for("authoring.lesson", slug=slug, lesson_id=lesson_id))


@view
@author_only
def quiz(slug, quiz_id):
    course = managed_course(slug)
    quiz = course_item(Quiz, quiz_id, course)
    form = QuizForm(obj=None if request.method == "POST" else _Obj(text=quiz.source_text or "", opened=ops.fingerprint(quiz)))
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                ops.check_fresh(quiz, form.opened.data)
                ops.save_quiz_text(quiz, form.text.data)
            except ops.StaleEdit as error:
                flash(str(error), "error")
                form.opened.data = ops.fingerprint(quiz)
                return render_template("authoring/quiz.html", course=course, quiz=quiz, form=form), 409
            except ops.EditError as error:
                discard()
                flash(str(error), "error")
                return render_template("authoring/quiz.html", course=course, quiz=quiz, form=form), 400
            flash(_("Quiz saved."), "success")
            return redirect(url_for("authoring.course", slug=slug))
        return render_template("authoring/quiz.html", course=course, quiz=quiz, form=form), 400
    return render_template("authoring/quiz.html", course=course, quiz=quiz, form=form)
