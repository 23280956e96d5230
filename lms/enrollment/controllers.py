from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.catalog import queries as catalog_queries
from lms.catalog.models import Course, Lesson
from lms.core.dates import local_today
from lms.core.lifecycle import allowed, discard, found, get_or_404, load, view
from lms.core.permissions import login_required, require
from lms.core.signals import answer, certificates_asked, quiz_asked
from lms.enrollment import operations
from lms.enrollment.queries import find_enrollment, my_enrollments, progress_by_enrollment
from lms.extensions import db
from lms.programs import queries as program_queries
from lms.programs.models import Program


@view
@login_required
@load(Course, "slug", get=catalog_queries.course_by_slug)
@allowed("view")
def enrol(course):
    slug = course.slug
    try:
        operations.enrol(current_user, course)
    except operations.EnrollmentError as error:
        flash(str(error), "error")
        return redirect(url_for("catalog.course", slug=slug)), 303
    flash(_("You are enrolled in “%(title)s”. Good luck!", title=course.title), "success")
    lessons = course.active_lessons()
    target = url_for("catalog.lesson", slug=slug, lesson_id=lessons[0].id) if lessons else url_for("catalog.course", slug=slug)
    return redirect(target, 303)


@view
@login_required
def set_lesson_done(slug, lesson_id):
    course = found(catalog_queries.course_by_slug(slug))
    lesson = get_or_404(Lesson, lesson_id, course_id=course.id)
    require(lesson.can_view(current_user))
    enrollment = find_enrollment(current_user, course)
    if enrollment is None:
        flash(_("Enrol in the course first to save your progress."), "error")
        return redirect(url_for("catalog.course", slug=slug), 303)
    if lesson.is_simulation and request.form.get("done", "1") == "1":
        # A practice simulation is done by doing its steps (lms/practice), not by a button.
        flash(_("A practice is done when you finish its steps."), "info")
        return redirect(url_for("catalog.lesson", slug=slug, lesson_id=lesson.id), 303)
    if request.form.get("done", "1") == "1":
        operations.mark_done(enrollment, lesson)
    else:
        operations.mark_not_done(enrollment, lesson)
    next_id = request.form.get("next_lesson", type=int)
    quiz_id = request.form.get("then_quiz", type=int)
    if quiz_id and (quiz := answer(quiz_asked, course, quiz_id=quiz_id)) is not None:  # quizzes answers
        return redirect(url_for("quizzes.take", quiz_id=quiz.id), 303)
    if next_id and (nxt := db.session.get(Lesson, next_id)) is not None and nxt.course_id == course.id:
        return redirect(url_for("catalog.lesson", slug=slug, lesson_id=nxt.id), 303)
    return redirect(url_for("catalog.lesson", slug=slug, lesson_id=lesson.id), 303)


@view
@login_required
def my_learning():
    enrollments = my_enrollments(current_user)
    progress = progress_by_enrollment(enrollments)
    all_certificates = answer(certificates_asked, current_user)  # certificates answers
    certificates = {c.course_id: c for c in all_certificates if c.course_id}  # the newest generation wins
    today = local_today()
    # Required first, soonest deadline first; then the rest as they were (last seen first).
    required = sorted((e for e in enrollments if e.deadline is not None and e.completed_at is None),
                      key=lambda e: e.deadline)
    others = [e for e in enrollments if e not in required]
    return render_template("enrollment/my_learning.html", enrollments=enrollments, required=required, others=others,
                           progress=progress, certificates=certificates, today=today,
                           certificate_count=len({(c.course_id, c.program_id) for c in all_certificates}))


@view
@login_required
@load(Program, "slug", get=program_queries.by_slug)
def enrol_in_program(program):
    slug = program.slug
    try:
        enrolled = operations.enrol_in_program(current_user, program)
    except operations.EnrollmentError as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("programs.show", slug=slug), 303)
    flash(_("You are enrolled in the program “%(title)s”.", title=program.title), "success")
    left_out = [link.course.title for link in program.courses if link.course_id not in {e.course_id for e in enrolled}]
    if left_out:
        flash(_("Not included, as they are not open to you (yet): %(titles)s.", titles=", ".join(left_out)), "info")
    return redirect(url_for("programs.show", slug=slug), 303)
