from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError


class ClassForm(FlaskForm):
    course_id = SelectField(_l("Course"), coerce=int, validators=[DataRequired(_l("Choose a course."))])
    title = StringField(_l("Name of the class"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    place = StringField(_l("Place"), validators=[Optional(), Length(max=255)])
    locality_code = StringField(_l("Commune or ward code"), validators=[Optional(), Length(max=16)])
    trainer_login = StringField(_l("Trainer (e-mail or phone)"), validators=[Optional(), Length(max=254)])
    submit = SubmitField(_l("Create the class"))


def _local_datetime(form, field):
    try:
        datetime.strptime(f"{form.day.data.strip()} {(form.time.data or '').strip()}", "%d/%m/%Y %H:%M")
    except (ValueError, AttributeError):
        raise ValidationError(_l("Enter the date as dd/mm/yyyy and the time as hh:mm, e.g. 05/03/2026 08:00.")) from None


class SessionForm(FlaskForm):
    day = StringField(_l("Date (dd/mm/yyyy)"), validators=[DataRequired(_l("Enter the date."))])
    time = StringField(_l("Start time (hh:mm)"), default="08:00", validators=[DataRequired(_l("Enter the time.")),
                                                                            _local_datetime])
    hours = DecimalField(_l("Hours"), default=2, places=1,
                         validators=[DataRequired(_l("Enter the hours.")), NumberRange(min=0.5, max=12)])
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Add the session"))


class MemberForm(FlaskForm):
    login = StringField(_l("Learner's e-mail or phone number"), validators=[DataRequired(_l("Enter an e-mail or phone."))])
    submit = SubmitField(_l("Add to the roster"))
