from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from lms.programs.forms import AUDIENCE_LABELS


class RuleForm(FlaskForm):
    target = SelectField(_l("Course or program"), validators=[DataRequired(_l("Choose a course or program."))])
    deadline = DateField(_l("Deadline (dd/mm/yyyy)"), format=["%d/%m/%Y", "%Y-%m-%d"],
                         validators=[DataRequired(_l("Enter the deadline as dd/mm/yyyy."))])
    audience = SelectField(_l("Audience"), choices=[("", _l("Everyone"))] + list(AUDIENCE_LABELS.items()),
                           validators=[Optional()])
    locality_code = StringField(_l("Code of the province, commune or ward (its whole area)"),
                                validators=[Optional(), Length(max=16)])
    agency_code = StringField(_l("Code of the agency (with its offices)"), validators=[Optional(), Length(max=32)])
    position_contains = StringField(_l("Position contains"), validators=[Optional(), Length(max=160)])
    submit = SubmitField(_l("Assign"))
