"""Pages of community digital teams: a member's residents, registering one, assisted sessions, the
manager's team page and report.

An assisted session logs the member's browser in as the resident (so lessons, simulations and
quizzes are the resident's own records) and keeps the member's id in the signed session cookie;
a banner shows whom the member is helping until they end the session.
"""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from lms.accounts import operations as accounts
from lms.accounts.models import User
from lms.community import operations as ops
from lms.community import queries
from lms.community.forms import ResidentForm, TeamMemberForm
from lms.core.lifecycle import discard, found, save_now, view
from lms.core.permissions import can, login_required, require
from lms.extensions import db
from lms.localities.models import Locality

ASSIST_KEY = "assist"
# While assisting, the member is logged in as the resident: these would act on the resident's account itself.
BLOCKED_WHILE_ASSISTING = {"accounts.profile", "accounts.logout", "accounts.set_password", "accounts.user_admin"}


def assisting() -> dict | None:
    return session.get(ASSIST_KEY)


def guard_assisted_session():
    """Before every request: while assisting, the resident's account settings stay out of reach."""
    if assisting() and request.endpoint in BLOCKED_WHILE_ASSISTING and request.method == "POST":
        flash(_("End the assisted session first."), "error")
        return redirect(request.referrer or url_for("enrollment.my_learning"), 303)
    return None


def _communes(user) -> list[Locality]:
    return [scope for scope in ops.team_scopes(user) if scope.level == "commune"]


@view
@login_required
def index():
    require(bool(ops.team_scopes(current_user)))
    residents = ops.my_residents(current_user)
    return render_template("community/index.html", residents=residents,
                           progress=queries.progress_of([r.user_id for r in residents]))


@view
@login_required
def new_resident():
    communes = _communes(current_user)
    require(bool(communes))
    form = ResidentForm()
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    if form.validate_on_submit():
        try:
            resident = ops.register_resident(
                current_user, full_name=form.full_name.data, phone=form.phone.data,
                commune=db.session.get(Locality, form.commune_id.data), hamlet=form.hamlet.data,
                consent_method=form.consent_method.data, consent_reference=form.consent_reference.data)
        except (ops.CommunityError, accounts.AccountError) as error:
            discard()
            form.consent_reference.errors = [*form.consent_reference.errors, str(error)]
            return render_template("community/new_resident.html", form=form), 400
        flash(_("%(name)s is registered. Give them their own log-in now.", name=resident.user.full_name), "success")
        return redirect(url_for("community.handoff", user_id=resident.user_id), 303)
    return render_template("community/new_resident.html", form=form), 400 if form.is_submitted() else 200


def _resident_or_404(user_id):
    resident = ops.resident_record(user_id)
    found(resident, resident is not None and ops.can_see_resident(current_user, user_id))
    return resident


@view
@login_required
def handoff(user_id):
    """The resident's own set-password link, as a QR code to scan with their own phone."""
    resident = _resident_or_404(user_id)
    link = accounts.set_password_link(resident.user) if resident.user.must_set_password else None
    return render_template("community/handoff.html", resident=resident, link=link,
                           qr=queries.qr_svg(link) if link else "")


@view
@login_required
def assist(user_id):
    if assisting():
        flash(_("End the assisted session first."), "error")
        return redirect(url_for("enrollment.my_learning"), 303)
    resident = _resident_or_404(user_id)
    try:
        started = ops.start_session(current_user, resident)
    except ops.CommunityError as error:
        discard()
        flash(str(error), "error")
        return redirect(url_for("community.index"), 303)
    member_id, name = current_user.id, resident.user.full_name
    login_user(resident.user)
    session[ASSIST_KEY] = {"session": started.id, "member": member_id, "name": name}
    flash(_("Assisted session started: what you do now is recorded for %(name)s.", name=name), "success")
    return redirect(url_for("catalog.index"), 303)


@view
def end_assist():
    data = session.pop(ASSIST_KEY, None)
    if not data:
        return redirect(url_for("catalog.index"), 303)
    ops.end_session(data["session"])
    save_now()  # the assisted session ends even if the member may not come back (403)
    member = db.session.get(User, data["member"])
    if member is None or not member.is_active:
        abort(403)
    login_user(member)
    flash(_("Assisted session with %(name)s ended.", name=data["name"]), "success")
    return redirect(url_for("community.index"), 303)


@view
@login_required
def team():
    """A manager adds team members for the communes they manage, and sees the report."""
    require(can("oversee"))
    form = TeamMemberForm()
    communes = queries.managed_communes(current_user)
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    status = 200
    if form.validate_on_submit():
        user = accounts.find_by_login(form.login.data)
        try:
            if user is None:
                raise ops.CommunityError(_("No account has this e-mail or phone number."))
            ops.grant_team_role(current_user, user, db.session.get(Locality, form.commune_id.data))
        except ops.CommunityError as error:
            discard()
            form.login.errors = [*form.login.errors, str(error)]
            status = 400
        else:
            flash(_("%(name)s is now a member of the community digital team.", name=user.full_name), "success")
            return redirect(url_for("community.team"), 303)
    elif form.is_submitted():
        status = 400
    report = queries.report(communes)
    return render_template("community/team.html", form=form, report=report), status
