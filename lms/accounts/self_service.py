"""What a person changes about their own account: password, name and commune, e-mail, phone."""

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from lms.accounts import operations, recovery, throttle
from lms.accounts.audiences import confirm_by_verified_email
from lms.accounts.controllers import _locality_choices
from lms.accounts.forms import ChangePasswordForm, CodeForm, EmailChangeForm, PhoneChangeForm, ProfileForm
from lms.accounts.models import User
from lms.accounts.sessions import end_other_sessions
from lms.core import audit
from lms.core.lifecycle import get_or_404, save_now, view
from lms.core.permissions import login_required
from lms.core.signals import person_placed
from lms.extensions import db
from lms.localities.models import Locality

_NEW_PHONE = "new_phone"


@view
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        # The log-in's growing delay (lms/accounts/throttle.py): guessing the current password here is no faster.
        wait = throttle.wait_seconds(operations.throttle_key(current_user.login_name), request.remote_addr, True)
        if wait:
            flash(ngettext("Too many failed attempts from here. Please wait %(num)d second and try again.",
                           "Too many failed attempts from here. Please wait %(num)d seconds and try again.", wait),
                  "error")
            return render_template("accounts/change_password.html", form=form), 429, {"Retry-After": str(wait)}
        if operations.authenticate(current_user.login_name, form.current.data, ip=request.remote_addr) is None:
            save_now()  # the failed try counts although the form comes back
            form.current.errors.append(_("This is not your current password."))
        else:
            current_user.set_password(form.password.data)
            end_other_sessions(current_user)
            audit.record(current_user, "account.password_changed", current_user)
            flash(_("Your password was changed. You were logged out everywhere else."), "success")
            return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/change_password.html", form=form), status


@view
@login_required
def edit_profile():
    form = ProfileForm(obj=None if request.method == "POST" else current_user,
                       locality_id=current_user.locality_id if request.method == "GET" else None)
    form.locality_id.choices, match_count = _locality_choices(form)
    if request.method == "POST" and form.search.data:
        if not form.locality_q.data:
            form.locality_q.errors = [_("Type part of the name of your commune or ward.")]
        elif match_count == 0:
            form.locality_q.errors = [_("No commune or ward matches “%(q)s”.", q=form.locality_q.data)]
        return render_template("accounts/edit_profile.html", form=form)
    if form.validate_on_submit():
        operations.update_profile(current_user, form.full_name.data, db.session.get(Locality, form.locality_id.data))
        person_placed.send(current_user)
        flash(_("Your details were saved."), "success")
        return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/edit_profile.html", form=form), status


def _taken(column, value) -> bool:
    from sqlalchemy import func, select

    where = func.lower(User.email) == value if column == "email" else User.phone == value
    return db.session.scalar(select(User.id).where(where, User.id != current_user.id)) is not None


def _start_change(form, column: str, value: str, template: str, send):
    """The shared steps of changing one's e-mail or phone: refuse one taken by another account, limit
    the requests, then send the verification (`send`, which answers the response). None when the form
    must be shown again (its error is on the field)."""
    field = form.email if column == "email" else form.phone
    if _taken(column, value):
        field.errors.append(_("This e-mail address is already registered.") if column == "email"
                            else _("This phone number is already registered."))
        return None
    if recovery.too_many_requests(f"verify:{current_user.id}", request.remote_addr):
        save_now()  # the request counts although the answer is a 429
        flash(_("Too many requests. Please wait 15 minutes and try again."), "error")
        return render_template(template, form=form), 429
    return send()


def _email_sent(email: str):
    recovery.send_email_verification(current_user, email)
    flash(_("We sent a link to %(email)s. Open it to confirm the new address; until then the old one stays.",
            email=email), "success")
    return redirect(url_for("accounts.profile"))


def _code_sent(phone: str):
    recovery.send_phone_verification(current_user, phone)
    session[_NEW_PHONE] = phone
    return redirect(url_for("accounts.confirm_phone"))


@view
@login_required
def change_email():
    form = EmailChangeForm()
    if form.validate_on_submit():
        email = operations.split_login(form.email.data)[0]
        answer = _start_change(form, "email", email, "accounts/change_email.html", lambda: _email_sent(email))
        if answer is not None:
            return answer
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/change_email.html", form=form), status


@view
def confirm_email(token):
    found = recovery.email_change_for_token(token)
    if found is None:
        return render_template("accounts/link_invalid.html"), 400
    user, email = found
    if (user.email or "").lower() != email:
        try:
            operations.change_email(user, email)
        except operations.AccountError as error:
            flash(str(error), "error")
            return render_template("accounts/link_invalid.html"), 409
    confirmed = confirm_by_verified_email(user, email)
    flash(_("Your e-mail address is now %(email)s.", email=email), "success")
    if confirmed:
        flash(_("Your e-mail address is an official one: you are now confirmed as a civil servant."), "success")
    return redirect(url_for("accounts.profile" if current_user.is_authenticated else "accounts.login"))


@view
@login_required
def change_phone():
    form = PhoneChangeForm()
    if form.validate_on_submit():
        phone = operations.normalise_phone(form.phone.data)
        answer = _start_change(form, "phone", phone, "accounts/change_phone.html", lambda: _code_sent(phone))
        if answer is not None:
            return answer
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/change_phone.html", form=form), status


@view
@login_required
def confirm_phone():
    phone = session.get(_NEW_PHONE)
    if not phone:
        return redirect(url_for("accounts.change_phone"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            row = recovery.check_code(current_user, recovery.PHONE, form.code.data)
            if row.target != phone:
                raise recovery.CodeProblem(_("This code is not valid any more. Ask for a new one."))
            operations.change_phone(current_user, phone)
        except (recovery.CodeProblem, operations.AccountError) as problem:
            save_now()  # the wrong try counts although the form comes back
            form.code.errors.append(str(problem))
        else:
            session.pop(_NEW_PHONE, None)
            flash(_("Your phone number is now %(phone)s.", phone=phone), "success")
            return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/confirm_phone.html", form=form, phone=phone), status


@view
@login_required
def send_set_password_link(user_id):
    """A manager (of the person's locality or agency) or an administrator resends the set-password link."""
    user = get_or_404(User, user_id)
    if not current_user.can_manage_user(user):
        abort(403)
    channel = recovery.send_set_password_link(user)
    if channel is None:
        flash(_("This account already has a password, or has no e-mail address or phone number."), "error")
    else:
        audit.record(current_user, "account.set_password_link_sent", user, channel=channel)
        flash(_("The set-password link was sent by e-mail.") if channel == "email"
              else _("The set-password link was sent by SMS."), "success")
    target = request.form.get("next")
    from lms.core.urls import is_safe_next

    return redirect(target if is_safe_next(target) else url_for("accounts.user_admin", user_id=user.id))
