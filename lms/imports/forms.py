from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField

AUDIENCE_CHOICES = [("official", _l("Civil servants and public employees")), ("citizen", _l("Residents")),
                    ("cio", _l("CIO and IT leaders"))]


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or Excel (.xlsx) file"), validators=[FileRequired(_l("Choose a file."))])
    default_audience = SelectField(_l("Audience when the file has no audience column"), choices=AUDIENCE_CHOICES,
                                   default="official")
    submit = SubmitField(_l("Upload and check"))


def mapping_form(headers: list[str], mapping: dict, fields: dict, formdata=None):
    """A form with one <select> per field, its choices the file's headers."""

    class MappingForm(FlaskForm):
        check = SubmitField(_l("Check again"))
        run = SubmitField(_l("Run the import"))

    choices = [("", _l("— not in the file —"))] + [(h, h) for h in headers if h]
    for name, label in fields.items():
        setattr(MappingForm, f"map_{name}", SelectField(label, choices=choices, default=mapping.get(name, "")))
    return MappingForm(formdata=formdata) if formdata is not None else MappingForm()
