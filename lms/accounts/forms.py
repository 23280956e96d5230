import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from lms.accounts.operations import normalise_phone, split_login
from lms.accounts.password_policy import password_problems
from lms.core.inputs import MAX_ID


def _valid_login(form, field):
    email, phone = split_login(field.data or "")
    if email:
        local, _, domain = email.partition("@")
        if not local or "." not in domain:
            raise ValidationError(_l("Enter a valid e-mail address, e.g. ten@example.com."))
    elif not phone:
        raise ValidationError(_l("Enter an e-mail address or a 10-digit mobile number starting with 0."))


def _check_password(password, user_inputs) -> None:
    problems = password_problems(password or "", user_inputs)
    if problems:
        raise ValidationError(problems[0])


def _id_or_zero(value) -> int:
    """Coerce a posted <select> value; the empty placeholder becomes 0 ("nothing chosen")."""
    try:
        number = int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= MAX_ID else 0


def _policy(form, field):
    """The password policy (lms/accounts/password_policy.py); a view may set `form.user_inputs` (the
    person's name and login) so that a password made of them is refused."""
    _check_password(field.data, getattr(form, "user_inputs", ()))


def _password_fields(label):
    password = PasswordField(label, validators=[DataRequired(_l("Choose a password.")), _policy])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords are not the same."))])
    return password, confirm


class LoginForm(FlaskForm):
    login = StringField(_l("E-mail or phone number"), validators=[DataRequired(_l("Enter your e-mail or phone number."))])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])
    submit = SubmitField(_l("Log in"))


class RegisterForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[
        DataRequired(_l("Enter your full name.")),
        Length(min=2, max=160, message=_l("Your name must be between %(min)d and %(max)d characters.")),
    ])
    login = StringField(_l("E-mail or phone number"), validators=[
        DataRequired(_l("Enter an e-mail address or a phone number.")), _valid_login])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Choose a password."))])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        DataRequired(_l("Repeat the password.")), EqualTo("password", _l("The two passwords are not the same."))])
    audience = RadioField(_l("I am"), choices=[("citizen", _l("a resident")),
                                               ("official", _l("a civil servant or public employee"))],
                          default="citizen", validators=[DataRequired(_l("Choose one."))])
    locality_q = StringField(_l("Find your commune or ward"))
    locality_id = SelectField(_l("Commune or ward where you live or work"), coerce=_id_or_zero, validate_choice=False,
                              validators=[DataRequired(_l("Choose your commune or ward."))])
    consent = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal data."),
                           validators=[DataRequired(_l("Your consent is needed to create an account."))])
    search = SubmitField(_l("Search"))
    submit = SubmitField(_l("Create account"))

    def validate_password(self, field):
        _check_password(field.data, (self.full_name.data, self.login.data))

    def validate_locality_id(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose your commune or ward from the list."))


__all__ = ["LoginForm", "PositionForm", "RegisterForm", "SetPasswordForm", "UserAdminForm", "normalise_phone"]


class PositionForm(FlaskForm):
    position = StringField(_l("Position"), validators=[Length(max=160)])
    submit = SubmitField(_l("Save"))


class UserAdminForm(FlaskForm):
    agency_code = StringField(_l("Agency code"), validators=[Length(max=32)])
    position = StringField(_l("Position"), validators=[Length(max=160)])
    submit = SubmitField(_l("Save"))


class SetPasswordForm(FlaskForm):
    password, confirm = _password_fields(_l("New password"))
    submit = SubmitField(_l("Set password"))


def _six_digits(form, field):
    if not re.fullmatch(r"\d{6}", (field.data or "").strip()):
        raise ValidationError(_l("The code has 6 digits."))


class ForgotPasswordForm(FlaskForm):
    login = StringField(_l("E-mail or phone number"), validators=[
        DataRequired(_l("Enter your e-mail or phone number.")), Length(max=254), _valid_login])
    submit = SubmitField(_l("Send"))


class CodeResetForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=[DataRequired(_l("Enter the code.")), _six_digits])
    password, confirm = _password_fields(_l("New password"))
    submit = SubmitField(_l("Set password"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(_l("Enter your current password.")),
                                                                Length(max=128)])
    password, confirm = _password_fields(_l("New password"))
    submit = SubmitField(_l("Change password"))


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[
        DataRequired(_l("Enter your full name.")),
        Length(min=2, max=160, message=_l("Your name must be between %(min)d and %(max)d characters.")),
    ])
    locality_q = StringField(_l("Find your commune or ward"), validators=[Length(max=100)])
    locality_id = SelectField(_l("Commune or ward where you live or work"), coerce=_id_or_zero, validate_choice=False,
                              validators=[DataRequired(_l("Choose your commune or ward."))])
    search = SubmitField(_l("Search"))
    submit = SubmitField(_l("Save"))

    def validate_locality_id(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose your commune or ward from the list."))


class EmailChangeForm(FlaskForm):
    email = StringField(_l("New e-mail address"), validators=[
        DataRequired(_l("Enter an e-mail address.")), Length(max=254), _valid_login])
    submit = SubmitField(_l("Send a confirmation link"))

    def validate_email(self, field):
        if "@" not in (field.data or ""):
            raise ValidationError(_l("Enter a valid e-mail address, e.g. ten@example.com."))


class PhoneChangeForm(FlaskForm):
    phone = StringField(_l("New phone number"), validators=[DataRequired(_l("Enter a phone number.")), Length(max=30)])
    submit = SubmitField(_l("Send a code"))

    def validate_phone(self, field):
        if not normalise_phone(field.data):
            raise ValidationError(_l("Enter a 10-digit mobile number starting with 0 (or +84)."))


class CodeForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=[DataRequired(_l("Enter the code.")), _six_digits])
    submit = SubmitField(_l("Confirm"))


class SsoCompleteForm(ProfileForm):
    """First sign-in through a provider: only what it did not give (the login box only when it gave no address)."""

    login = StringField(_l("E-mail or phone number"), validators=[Length(max=254)])
    audience = RadioField(_l("I am"), choices=[("citizen", _l("a resident")),
                                               ("official", _l("a civil servant or public employee"))],
                          default="citizen", validators=[DataRequired(_l("Choose one."))])
    consent = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal data."),
                           validators=[DataRequired(_l("Your consent is needed to create an account."))])
    submit = SubmitField(_l("Create account"))


class SsoLinkForm(FlaskForm):
    """Link an existing account to the provider's sign-in; the consent box only when never given."""

    consent = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal data."))
    submit = SubmitField(_l("Link and sign in"))

    def __init__(self, *args, needs_consent: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_consent = needs_consent

    def validate_consent(self, field):
        if self.needs_consent and not field.data:
            raise ValidationError(_l("Your consent is needed to link your account."))
