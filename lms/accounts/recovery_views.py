"""Forgot password: a link by e-mail, or a 6-digit code by SMS. Replies never say whether an account exists."""

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user

from lms.accounts import operations, recovery
from lms.accounts.forms import CodeResetForm, ForgotPasswordForm, SetPasswordForm
from lms.core.lifecycle import save_now, view

_RESET_LOGIN = "reset_login"


def _too_many(template: str, **context):
    save_now()  # the request counts although the answer is a 429
    flash(_("Too many requests. Please wait 15 minutes and try again."), "error")
    return render_template(template, **context), 429


@view
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("accounts/forgot_password.html", form=form), 400 if form.is_submitted() else 200
    email, phone = operations.split_login(form.login.data)
    if recovery.too_many_requests(email or phone, request.remote_addr):
        return _too_many("accounts/forgot_password.html", form=form)
    user = operations.find_by_login(form.login.data)
    usable = user is not None and user.is_active
    if email:
        if usable:
            recovery.send_reset_link(user)
        return render_template("accounts/forgot_password_sent.html", login=email)
    if usable and user.phone == phone:
        recovery.send_reset_code(user)
    session[_RESET_LOGIN] = phone
    return redirect(url_for("accounts.reset_with_code"))


def _finish_reset(user, password):
    operations.change_password(user, password)
    operations.clear_login_failures(user)
    from lms.core import audit

    audit.record(user, "account.password_reset", user)
    logout_user()
    session.pop(_RESET_LOGIN, None)
    flash(_("Your new password is set. You can log in now."), "success")
    return redirect(url_for("accounts.login"))


@view
def reset_with_code():
    phone = session.get(_RESET_LOGIN)
    if not phone:
        return redirect(url_for("accounts.forgot_password"))
    form = CodeResetForm()
    if form.validate_on_submit():
        user = operations.find_by_login(phone)
        try:
            recovery.check_code(user if user is not None and user.is_active else None, recovery.RESET, form.code.data)
        except recovery.CodeProblem as problem:
            save_now()  # the wrong try counts although the form comes back
            form.code.errors.append(str(problem))
        else:
            return _finish_reset(user, form.password.data)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/reset_code.html", form=form, phone=phone), status


@view
def reset_password(token):
    user = recovery.user_for_reset_token(token)
    if user is None:
        return render_template("accounts/reset_password.html", form=None), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        return _finish_reset(user, form.password.data)
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/reset_password.html", form=form, user=user), status
