from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from lms.accounts import operations, recovery, throttle
from lms.accounts.audiences import official_domain, request_audience
from lms.accounts.forms import LoginForm, PositionForm, RegisterForm, SetPasswordForm, UserAdminForm
from lms.accounts.models import User
from lms.accounts.sso import provider_logout_redirect
from lms.agencies import queries as agency_queries
from lms.core import audit
from lms.core.db import begin_read
from lms.core.lifecycle import get_or_404, save_now, view
from lms.core.permissions import login_required, role_required
from lms.core.signals import account_created, person_placed
from lms.core.urls import is_safe_next
from lms.extensions import db
from lms.localities import queries as locality_queries
from lms.localities.models import CURRENT_SCHEME, Locality


def _after_login_target():
    target = request.args.get("next") or request.form.get("next")
    return target if is_safe_next(target) else url_for("enrollment.my_learning")


@view
def login():
    if current_user.is_authenticated:
        return redirect(_after_login_target())
    form = LoginForm()
    if form.validate_on_submit():
        begin_read()  # the account and its failures are read without the write lock, taken once after the password check
        key = operations.throttle_key(form.login.data)
        known = operations.find_by_login(form.login.data)
        trusted = known is not None and throttle.device_user_id() == known.id
        wait = throttle.wait_seconds(key, request.remote_addr, trusted)
        if wait:
            flash(ngettext("Too many failed attempts from here. Please wait %(num)d second and try again.",
                           "Too many failed attempts from here. Please wait %(num)d seconds and try again.", wait), "error")
            return render_template("accounts/login.html", form=form), 429, {"Retry-After": str(wait)}
        user = operations.authenticate(form.login.data, form.password.data, ip=request.remote_addr)
        save_now()  # a failed log-in counts although the answer is a 400
        if user is None:
            form.password.errors.append(_("The e-mail/phone number or the password is not correct."))
            return render_template("accounts/login.html", form=form), 400
        login_user(user)
        session["lang"] = user.locale or session.get("lang")
        flash(_("Welcome, %(name)s!", name=user.full_name), "success")
        return throttle.remember_device(redirect(_after_login_target()), user.id)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@view
def logout():
    sso_session = session.pop("sso", None)
    # Server-side: logout_user ends this browser's session record (lms/accounts/sessions.py), so a
    # copy of the cookie (a stolen one) stops working too; the person's other devices stay signed in.
    logout_user()
    flash(_("You have logged out."), "info")
    return provider_logout_redirect(sso_session) or redirect(url_for("catalog.index"))


def _locality_choices(form: RegisterForm) -> tuple[list[tuple[int, str]], int]:
    """Choices for the commune picker — search matches first, then the home area — and the match count."""
    units = list(locality_queries.home_communes())
    matches = locality_queries.search_communes(form.locality_q.data) if form.locality_q.data else []
    choices = [("", _("— choose —"))]
    seen = set()
    for unit, former in matches:
        label = unit.label if former is None else _("%(unit)s (formerly %(former)s)", unit=unit.label, former=former)
        choices.append((unit.id, label))
        seen.add(unit.id)
    selected = form.locality_id.data if isinstance(form.locality_id.data, int) else None
    if selected and selected not in seen:
        unit = db.session.get(Locality, selected)
        if unit is not None and unit.scheme == CURRENT_SCHEME and unit.level == "commune":
            units.insert(0, unit)
    for unit in units:
        if unit.id not in seen:
            choices.append((unit.id, unit.label))
            seen.add(unit.id)
    return choices, len(matches)


@view
def register():
    if current_user.is_authenticated:
        return redirect(url_for("enrollment.my_learning"))
    form = RegisterForm()
    form.locality_id.choices, match_count = _locality_choices(form)
    if request.method == "POST" and form.search.data:
        # The no-JavaScript picker: the search button re-renders the form with the matches.
        if not form.locality_q.data:
            form.locality_q.errors = [_("Type part of the name of your commune or ward.")]
        elif match_count == 0:
            form.locality_q.errors = [_("No commune or ward matches “%(q)s”.", q=form.locality_q.data)]
        return render_template("accounts/register.html", form=form)
    if form.validate_on_submit():
        email, phone = operations.split_login(form.login.data)
        try:
            user = operations.create_user(form.full_name.data, form.password.data, email=email, phone=phone,
                                          locality=db.session.get(Locality, form.locality_id.data))
            request_audience(user, form.audience.data)  # official/CIO: pending until a manager confirms
        except operations.DuplicateAccount:
            # Neutral: the public form does not confirm that someone has an account with this address.
            form.login.errors.append(_("An account cannot be created with this e-mail or phone number. If you "
                                       "already have an account, log in instead."))
        except operations.AccountError as error:
            form.login.errors.append(str(error))
        else:
            user.locale = session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
            account_created.send(user, via="register")  # privacy records the consent, assignments apply
            by_email = user.audience_requested == "official" and official_domain(email)
            if by_email:  # opening the link confirms them (audiences.confirm_by_verified_email)
                recovery.send_email_verification(user, email)
            login_user(user)
            g.account_created = True  # counts against this address's registrations (throttle.registered)
            flash(_("Your account is ready. Welcome, %(name)s!", name=user.full_name), "success")
            if by_email:
                flash(_("We sent a link to %(email)s. Open it to confirm your official e-mail address: you are then "
                        "confirmed as a civil servant at once.", email=email), "info")
            elif user.audience_requested:
                flash(_("A manager of your commune or agency will confirm that you are a civil servant; until then "
                        "you study as a resident."), "info")
            return redirect(url_for("catalog.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@view
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LMS_LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            current_user.locale = lang
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else url_for("catalog.index"))


TEXT_SIZES = ("normal", "large", "larger")
TEXT_SIZE_COOKIE = "text_size"


@view
def set_text_size():
    """Larger text for people who need it, kept on this device for a year (a cookie, no account needed)
    and, when logged in, on the account too, so that it follows the person to any device."""
    size = request.form.get("size", "")
    target = request.form.get("next")
    response = redirect(target if is_safe_next(target) else url_for("catalog.index"), 303)
    if size not in TEXT_SIZES:
        flash(_("Choose one of the text sizes offered."), "error")
        return response
    response.set_cookie(TEXT_SIZE_COOKIE, size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    if current_user.is_authenticated and current_user.text_size != size:
        current_user.text_size = size  # the lifecycle commits it with the redirect
    return response


@view
@login_required
def profile():
    form = PositionForm(position=current_user.position)
    if form.validate_on_submit():
        operations.set_position(current_user, form.position.data)
        person_placed.send(current_user)
        flash(_("Your position was saved."), "success")
        return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/profile.html", user=current_user, form=form, admin_view=False), status


@view
@role_required("admin")
def user_admin(user_id):
    user = get_or_404(User, user_id)
    form = UserAdminForm(agency_code=user.agency.code if user.agency else "", position=user.position)
    link = None
    if form.validate_on_submit():
        agency = agency_queries.by_code(form.agency_code.data) if form.agency_code.data.strip() else None
        if form.agency_code.data.strip() and agency is None:
            form.agency_code.errors.append(_("No agency has this code."))
        else:
            operations.set_user_agency(user, agency, form.position.data, actor=current_user)
            person_placed.send(user)
            flash(_("The account was saved."), "success")
            return redirect(url_for("accounts.user_admin", user_id=user.id))
    elif request.method == "GET" and request.args.get("link") and user.must_set_password:
        link = recovery.set_password_link(user)
        audit.record(current_user, "user.set_password_link", user)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/profile.html", user=user, form=form, admin_view=True, link=link), status


@view
def set_password(token):
    user = recovery.user_for_set_password_token(token)
    if user is None:
        return render_template("accounts/set_password.html", form=None), 400
    form = SetPasswordForm()
    form.user_inputs = (user.full_name, user.login_name)
    if form.validate_on_submit():
        operations.change_password(user, form.password.data)
        logout_user()
        flash(_("Your password is set. You can log in now."), "success")
        return redirect(url_for("accounts.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/set_password.html", form=form, user=user), status
