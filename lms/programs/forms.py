from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from lms.accounts.models import AUDIENCES

AUDIENCE_LABELS = {"citizen": _l("Residents"), "official": _l("Civil servants"), "cio": _l("CIOs")}
# The same audiences inside a sentence ("Only for civil servants").
AUDIENCE_NOUNS = {"citizen": _l("residents"), "official": _l("civil servants"), "cio": _l("IT leaders (CIO)")}


class ProgramForm(FlaskForm):
    slug = StringField(_l("Short name in the address (a-z, 0-9, -)"), validators=[
        DataRequired(_l("Enter a short name.")), Length(max=120),
        Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use only a-z, 0-9 and '-'."))])
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    audience = SelectMultipleField(_l("Meant for (none chosen: everyone)"),
                                   choices=[(a, AUDIENCE_LABELS[a]) for a in AUDIENCES], validators=[Optional()])
    hours = DecimalField(_l("Training hours of the program"), places=1, default=0,
                         validators=[Optional(), NumberRange(min=0, max=10000)])
    required = TextAreaField(_l("Required courses, in order (one course address name per line)"),
                             validators=[Optional()])
    optional = TextAreaField(_l("Optional courses (one per line)"), validators=[Optional()])
    optional_required = IntegerField(_l("How many optional courses must be completed"), default=0,
                                     validators=[Optional(), NumberRange(min=0, max=100)])
    requires = TextAreaField(_l("Prerequisites: courses or programs to complete first (one per line)"),
                             validators=[Optional()])
    certificate = BooleanField(_l("Issue a program certificate"), default=True)
    # A choice, not a checkbox: a form posted without it (an older page) keeps the default, yes.
    assisted_attempts_count = RadioField(
        _l("Quiz attempts taken with help from a community digital team count toward completion and certificates"),
        choices=[("yes", _l("Yes")), ("no", _l("No: the learner must pass the quiz on their own"))], default="yes",
        validators=[Optional()])
    valid_months = IntegerField(_l("Certificate valid for (months, empty: no expiry)"),
                                validators=[Optional(), NumberRange(min=1, max=600)])
    submit = SubmitField(_l("Save"))


class CoursePrerequisitesForm(FlaskForm):
    requires = TextAreaField(_l("Prerequisites: courses or programs to complete first (one per line)"),
                             validators=[Optional()])
    submit = SubmitField(_l("Save"))


def audience_label(code: str) -> str:
    """The translated name of an audience code ('official' → 'Civil servants'), for templates."""
    return str(AUDIENCE_LABELS.get(code, code))


def audience_nouns(codes) -> str:
    """Audiences for the middle of a sentence: ['official', 'cio'] → 'civil servants, IT leaders (CIO)'."""
    return ", ".join(str(AUDIENCE_NOUNS.get(code, code)) for code in codes or [])
