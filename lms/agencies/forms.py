from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional


class AgencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter a code.")), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[
        ("department", _l("Provincial department (Sở)")), ("committee", _l("People's committee (UBND)")),
        ("office", _l("Office or division (phòng)")), ("other", _l("Other"))], default="other")
    parent_code = StringField(_l("Code of the parent agency"), validators=[Optional(), Length(max=32)])
    locality_code = StringField(_l("Code of its province, commune or ward"), validators=[Optional(), Length(max=16)])
    submit = SubmitField(_l("Save"))


class AgencyImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    submit = SubmitField(_l("Import"))
