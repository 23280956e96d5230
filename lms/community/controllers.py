"""Pages of community digital teams: a member's residents, registering one, assisted sessions, the
manager's team page and report.

An assisted session logs the member's browser in as the resident (so lessons, simulations and
quizzes are the resident's own records) and keeps the member's id in the signed session cookie;
a banner shows whom the member is helping until they end the session.
"""

from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user

from lms.accounts import recovery
from lms.accounts.models import User
from lms.accounts.queries import find_by_login
from lms.community import operations as ops
from lms.community import queries
from lms.community.forms import ContactForm, HamletImportForm, ResidentForm, TargetForm, TeamMemberForm
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
    return [scope for scope in queries.team_scopes(user) if scope.level == "commune"]


@view
@login_required
def index():
    require(bool(queries.team_scopes(current_user)))
    residents = queries.my_residents(current_user)
    return render_template("community/index.html", residents=residents,
                           progress=queries.progress_of([r.user_id for r in residents]))


@view
@login_required
def new_resident():
    communes = _communes(current_user)
    require(bool(communes))
    form = ResidentForm()
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    lists = queries.hamlets_of(communes)
    # The picker lists imported hamlets; typing stays possible while some commune has no list.
    g.hamlet_lists, g.free_hamlet = [(c, lists[c.id]) for c in communes if c.id in lists], len(lists) < len(communes)
    if not form.validate_on_submit():
        return render_template("community/new_resident.html", form=form), 400 if form.is_submitted() else 200
    commune = db.session.get(Locality, form.commune_id.data)
    pick = request.form.get("hamlet_pick", "")
    if pick and pick not in lists.get(commune.id, []):  # a hamlet of another of the member's communes
        flash(_("Choose a hamlet of this commune from the list."), "error")
        return render_template("community/new_resident.html", form=form), 400
    form.hamlet.data = pick or form.hamlet.data
    if form.send_code.data:
        return _send_consent_code(form, commune)
    missing = form.consent_missing()
    if missing:
        field = form.consent_code if form.consent_method.data == "sms" else form.consent_reference
        field.errors = [*field.errors, missing]
        return render_template("community/new_resident.html", form=form), 400
    try:
        resident = ops.register_resident(
            current_user, full_name=form.full_name.data, phone=form.phone.data, commune=commune,
            hamlet=form.hamlet.data, consent_method=form.consent_method.data,
            consent_reference=form.consent_reference.data, consent_code=form.consent_code.data)
    except ops.ConsentCodeError as error:
        save_now()  # the wrong try counts: five, then a new code is needed
        form.consent_code.errors = [*form.consent_code.errors, str(error)]
        return render_template("community/new_resident.html", form=form), 400
    except ops.CommunityError as error:
        discard()
        form.consent_reference.errors = [*form.consent_reference.errors, str(error)]
        return render_template("community/new_resident.html", form=form), 400
    flash(_("%(name)s is registered. Give them their own log-in now.", name=resident.user.full_name), "success")
    return redirect(url_for("community.handoff", user_id=resident.user_id), 303)


def _send_consent_code(form, commune):
    try:
        number = ops.send_consent_code(current_user, form.phone.data, commune, request.remote_addr)
    except ops.CommunityError as error:
        save_now()  # a refused send still counts toward the limit
        form.phone.errors = [*form.phone.errors, str(error)]
        return render_template("community/new_resident.html", form=form), 400
    form.consent_method.data = "sms"
    flash(_("A 6-digit code was sent to …%(digits)s. Ask the resident to read it to you, then type it below.",
            digits=number[-3:]), "success")
    return render_template("community/new_resident.html", form=form, code_sent=True)


def _resident_or_404(user_id):
    resident = queries.resident_record(user_id)
    found(resident, resident is not None and queries.can_see_resident(current_user, user_id))
    return resident


@view
@login_required
def handoff(user_id):
    """The resident's own set-password link, as a QR code to scan with their own phone, or sent by SMS."""
    resident = _resident_or_404(user_id)
    if request.method == "POST":
        try:
            masked = ops.hand_over_by_sms(resident, request.remote_addr)
        except ops.CommunityError as error:
            save_now()  # a refused send still counts toward the limit
            flash(str(error), "error")
        else:
            flash(_("The link to choose a password was sent by SMS to %(number)s.", number=masked), "success")
        return redirect(url_for("community.handoff", user_id=user_id), 303)
    link = recovery.set_password_link(resident.user) if resident.user.must_set_password else None
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


def _team_page(communes, status=200, **forms):
    """The manager's page: add members, coverage targets, hamlet lists, and the report."""
    choices = [(c.id, c.name) for c in communes]
    forms = {"form": TeamMemberForm(formdata=None), "target_form": TargetForm(formdata=None),
             "hamlet_form": HamletImportForm(formdata=None), "contact_form": ContactForm(formdata=None, prefix="contact"),
             **forms}
    for form in forms.values():
        form.commune_id.choices = choices
    return render_template("community/team.html", report=queries.report(communes),
                           coverage=queries.coverage(communes), export_units=queries.export_units(current_user),
                           **forms), status


def _commune_of(form, communes):
    """The commune the form names, among the manager's (None when not one of them)."""
    return next((c for c in communes if c.id == form.commune_id.data), None)


@view
@login_required
def team():
    """A manager adds team members for the communes they manage, and sees the report."""
    require(can("oversee"))
    communes = queries.managed_communes(current_user)
    form = TeamMemberForm()
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    if not form.is_submitted():
        return _team_page(communes)
    if form.validate():
        user = find_by_login(form.login.data)
        try:
            if user is None:
                raise ops.CommunityError(_("No account has this e-mail or phone number."))
            ops.grant_team_role(current_user, user, db.session.get(Locality, form.commune_id.data))
        except ops.CommunityError as error:
            discard()
            form.login.errors = [*form.login.errors, str(error)]
        else:
            flash(_("%(name)s is now a member of the community digital team.", name=user.full_name), "success")
            return redirect(url_for("community.team"), 303)
    return _team_page(communes, 400, form=form)


def _manager_form(form_class, name: str, error_field: str, act, anchor: str):
    """A manager's form on the team page (`name` in its template): `act(form, commune)` saves and returns the message to flash, or
    raises CommunityError (shown under `error_field`, status 400, nothing saved)."""
    require(can("oversee"))
    communes = queries.managed_communes(current_user)
    form = form_class()
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    if form.validate():
        try:
            message = act(form, _commune_of(form, communes))
        except ops.CommunityError as error:
            discard()
            field = getattr(form, error_field)
            field.errors = [*field.errors, str(error)]
        else:
            flash(message, "success")
            return redirect(url_for("community.team", _anchor=anchor), 303)
    return _team_page(communes, 400, **{name: form})


@view
@login_required
def targets():
    """A commune's coverage target, set by a manager whose scope covers it."""
    def act(form, commune):
        ops.set_target(current_user, commune, reached=form.reached.data, completed=form.completed.data,
                       counts=form.counts.data, due_on=form.due_on.data)
        return _("Coverage target saved.")

    return _manager_form(TargetForm, "target_form", "reached", act, "coverage")


@view
@login_required
def hamlets():
    """A commune's list of hamlets (thôn, ấp, khu phố) from a CSV file: the picker for registering residents."""
    def act(form, commune):
        try:
            text = form.file.data.read(256 * 1024).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ops.CommunityError(_("Save the file as CSV in UTF-8.")) from None
        return _("%(count)d hamlets added.", count=ops.import_hamlets(current_user, commune, text))

    return _manager_form(HamletImportForm, "hamlet_form", "file", act, "hamlets")


def _contact_form(communes, formdata=None) -> ContactForm:
    form = ContactForm(formdata=formdata, prefix="contact")
    form.commune_id.choices = [(c.id, c.name) for c in communes]
    return form


@view
@login_required
def contact():
    """A manager sets the help contact that their commune's residents see on their home page."""
    require(can("oversee"))
    communes = queries.managed_communes(current_user)
    form = _contact_form(communes, request.form)
    if form.validate_on_submit():
        try:
            ops.set_contact(current_user, db.session.get(Locality, form.commune_id.data), phone=form.phone.data,
                            place=form.place.data, hours=form.hours.data)
        except ops.CommunityError as error:
            discard()
            flash(str(error), "error")
            return redirect(url_for("community.team"), 303)
        flash(_("The help contact was saved."), "success")
        return redirect(url_for("community.team"), 303)
    flash(" ".join(str(e) for errors in form.errors.values() for e in errors) or _("Check the form."), "error")
    return redirect(url_for("community.team"), 303)
