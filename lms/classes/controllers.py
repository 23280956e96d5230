from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms.accounts.queries import find_by_login
from lms.catalog.models import Course
from lms.classes import operations, queries
from lms.classes.forms import ClassForm, MemberForm, SessionForm
from lms.classes.models import ATTENDANCE, ClassSession, TrainingClass
from lms.core.dates import from_local
from lms.core.lifecycle import discard, get_or_404, view
from lms.core.permissions import can, login_required, require, role_required
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality


@view
@login_required
def index():
    return render_template("classes/index.html", **queries.classes_for(current_user),
                           can_create=can("teach"))


@view
@role_required("trainer")
def new():
    form = ClassForm()
    # Only the courses this trainer owns or co-edits (admins: all): a class enrols people in its course.
    courses = db.session.scalars(select(Course).where(Course.status == "published").order_by(Course.title_folded))
    form.course_id.choices = [(c.id, c.title) for c in courses if c.can_manage(current_user)]
    if form.validate_on_submit():
        trainer = current_user
        if can("administer") and form.trainer_login.data:
            trainer = find_by_login(form.trainer_login.data)
            if trainer is None or not can("be_assigned_classes", trainer):
                form.trainer_login.errors.append(_("No trainer has this log-in."))
        locality = None
        if form.locality_code.data:
            locality = db.session.scalar(select(Locality).where(
                Locality.scheme == CURRENT_SCHEME, Locality.code == form.locality_code.data.strip())
                .order_by(Locality.level.desc()))
            if locality is None:
                form.locality_code.errors.append(_("No province, commune or ward has this code."))
        if not form.trainer_login.errors and not form.locality_code.errors:
            training_class = operations.create_class(db.session.get(Course, form.course_id.data), form.title.data,
                                                     trainer, locality=locality or current_user.locality,
                                                     place=form.place.data or "", actor=current_user)
            flash(_("The class was created."), "success")
            return redirect(url_for("classes.detail", class_id=training_class.id))
    status = 400 if form.is_submitted() else 200
    return render_template("classes/new.html", form=form), status


def _load(class_id) -> TrainingClass:
    training_class = get_or_404(TrainingClass, class_id)
    require(training_class.can_view(current_user))
    return training_class


def _attendance_grid(training_class):
    """{(session id, user id): status}."""
    return {(a.session_id, a.user_id): a.status for s in training_class.sessions for a in s.attendance}


def _render(training_class, session_form=None, member_form=None, status=200):
    return render_template("classes/detail.html", training_class=training_class, grid=_attendance_grid(training_class),
                           can_manage=training_class.can_manage(current_user),
                           session_form=session_form or SessionForm(formdata=None),
                           member_form=member_form or MemberForm(formdata=None)), status


@view
@login_required
def detail(class_id):
    return _render(_load(class_id))


@view
@login_required
def add_session(class_id):
    training_class = _load(class_id)
    require(training_class.can_manage(current_user))
    form = SessionForm()
    if not form.validate_on_submit():
        return _render(training_class, session_form=form, status=400)
    local = datetime.strptime(f"{form.day.data.strip()} {form.time.data.strip()}", "%d/%m/%Y %H:%M")
    starts_at = from_local(local)
    operations.add_session(training_class, starts_at, form.hours.data, form.topic.data or "")
    flash(_("The session was added."), "success")
    return redirect(url_for("classes.detail", class_id=class_id))


@view
@login_required
def add_member(class_id):
    training_class = _load(class_id)
    require(training_class.can_manage(current_user))
    form = MemberForm()
    if form.validate_on_submit():
        user = find_by_login(form.login.data)
        # Someone out of reach gets the same answer as no one: the page never names them.
        if user is None or not operations.can_enrol(training_class, current_user, user):
            form.login.errors.append(_("No learner within your area has this e-mail or phone number."))
        else:
            operations.add_member(training_class, user, actor=current_user)
            flash(_("%(name)s is on the roster.", name=user.full_name), "success")
            return redirect(url_for("classes.detail", class_id=class_id))
    return _render(training_class, member_form=form, status=400)


@view
@login_required
def remove_member(class_id):
    training_class = _load(class_id)
    require(training_class.can_manage(current_user))
    operations.remove_member(training_class, request.form.get("user_id", type=int))
    return redirect(url_for("classes.detail", class_id=class_id))


@view
@login_required
def attendance(class_id, session_id):
    training_class = _load(class_id)
    require(training_class.can_manage(current_user))
    session = get_or_404(ClassSession, session_id, class_id=training_class.id)
    if request.method == "POST":
        statuses = {}
        for member in training_class.members:
            value = request.form.get(f"status-{member.user_id}")
            if value:
                statuses[member.user_id] = value
        try:
            operations.record_attendance(session, statuses, current_user)
        except operations.ClassError as error:
            discard()
            flash(str(error), "error")
            return redirect(url_for("classes.attendance", class_id=class_id, session_id=session_id)), 303
        flash(_("Attendance saved."), "success")
        return redirect(url_for("classes.detail", class_id=class_id))
    return render_template("classes/attendance.html", training_class=training_class, session=session,
                           current={a.user_id: a.status for a in session.attendance}, statuses=ATTENDANCE)
