from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.completion.rules import completion_time
from lms.core import audit
from lms.core.lifecycle import found, get_or_404, view
from lms.core.permissions import role_required
from lms.programs import operations, queries
from lms.programs.forms import CoursePrerequisitesForm, ProgramForm, audience_label
from lms.programs.models import Program


@view
def index():
    return render_template("programs/index.html", programs=queries.all_programs())


@view
def show(slug):
    program = found(queries.by_slug(slug))
    enrollments = queries.enrollments_in(current_user, program)
    done = current_user.is_authenticated and completion_time(current_user.id, program) is not None
    closed = queries.closed_courses(current_user, program)
    refusal = queries.enrol_refusal(current_user, program, closed) if current_user.is_authenticated else None
    more = any(link.course_id not in enrollments and link.course_id not in closed for link in program.courses)
    return render_template("programs/show.html", program=program, enrollments=enrollments, done=done,
                           refusal=refusal, closed=closed, can_enrol_more=more,
                           prerequisites=queries.prerequisites_of(program))


@view
@role_required("admin")
def admin_index():
    return render_template("programs/admin_index.html", programs=queries.all_programs())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace(",", "\n").splitlines() if line.strip()]


@view
@role_required("admin")
def edit(program_id=None):
    program = get_or_404(Program, program_id) if program_id else None
    form = ProgramForm(obj=program)
    if program is not None and not form.is_submitted():
        form.assisted_attempts_count.data = "yes" if program.assisted_attempts_count else "no"
    if program is not None and not form.is_submitted():
        form.required.data = "\n".join(link.course.slug for link in program.courses if link.required)
        form.optional.data = "\n".join(link.course.slug for link in program.courses if not link.required)
        form.requires.data = "\n".join(p.requires_course.slug if p.requires_course else p.requires_program.slug
                                       for p in queries.prerequisites_of(program))
    if form.validate_on_submit():
        required, optional, requires = _lines(form.required.data), _lines(form.optional.data), _lines(form.requires.data)
        courses = queries.courses_by_slug(required + optional + requires)
        programs = queries.programs_by_slug(requires)
        unknown = [s for s in required + optional if s not in courses]
        unknown_requires = [s for s in requires if s not in courses and s not in programs]
        taken = queries.by_slug(form.slug.data)
        if taken is not None and taken is not program:
            form.slug.errors.append(_("Another program already uses this short name."))
        elif unknown:
            form.required.errors.append(_("No course has these short names: %(names)s.", names=", ".join(unknown)))
        elif not required and not optional:
            form.required.errors.append(_("A program needs at least one course."))
        elif set(required) & set(optional):
            form.optional.errors.append(_("A course cannot be both required and optional."))
        elif unknown_requires or form.slug.data in requires:
            form.requires.errors.append(_("No course or other program has these short names: %(names)s.",
                                          names=", ".join(unknown_requires or [form.slug.data])))
        elif gaps := operations.audience_gaps(form.audience.data or [], [courses[s] for s in required],
                                              [courses[s] for s in optional], form.optional_required.data or 0):
            form.audience.errors.extend(_audience_gap_message(*gap) for gap in gaps)
        else:
            saved = operations.save_program(
                program, slug=form.slug.data, title=form.title.data.strip(), hours=form.hours.data or 0,
                description=form.description.data or "", audience=form.audience.data or [],
                certificate=form.certificate.data, valid_months=form.valid_months.data,
                optional_required=form.optional_required.data or 0,
                assisted_attempts_count=form.assisted_attempts_count.data != "no",
                required=[courses[s] for s in required], optional=[courses[s] for s in optional])
            operations.set_prerequisites(program=saved, courses=[courses[s] for s in requires if s in courses],
                                         programs=[programs[s] for s in requires if s not in courses])
            audit.record(None, "program.save", saved, slug=saved.slug, created=program is None)
            flash(_("Program “%(title)s” saved.", title=saved.title), "success")
            return redirect(url_for("programs.show", slug=saved.slug))
    status = 400 if form.is_submitted() else 200
    return render_template("programs/edit.html", form=form, program=program), status




def _audience_gap_message(who, closed, open_optional) -> str:
    if closed:
        return _("%(who)s could never complete it: the required course %(titles)s is not open to them.",
                 who=audience_label(who), titles=", ".join(course.title for course in closed))
    return _("%(who)s could never complete it: only %(open)d optional course(s) are open to them.",
             who=audience_label(who), open=open_optional)


@view
@role_required("admin")
def course_prerequisites(slug):
    course = found(queries.courses_by_slug([slug]).get(slug))
    form = CoursePrerequisitesForm()
    if not form.is_submitted():
        form.requires.data = "\n".join(p.requires_course.slug if p.requires_course else p.requires_program.slug
                                       for p in queries.prerequisites_of_course(course))
    if form.validate_on_submit():
        requires = _lines(form.requires.data)
        courses, programs = queries.courses_by_slug(requires), queries.programs_by_slug(requires)
        unknown = [s for s in requires if s not in courses and s not in programs]
        if unknown or slug in requires:
            form.requires.errors.append(_("No course or other program has these short names: %(names)s.",
                                          names=", ".join(unknown or [slug])))
        else:
            operations.set_prerequisites(course=course, courses=[courses[s] for s in requires if s in courses],
                                         programs=[programs[s] for s in requires if s not in courses])
            flash(_("Prerequisites of “%(title)s” saved.", title=course.title), "success")
            return redirect(url_for("catalog.course", slug=slug))
    status = 400 if form.is_submitted() else 200
    return render_template("programs/course_prerequisites.html", form=form, course=course), status
