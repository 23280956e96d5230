from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField


def preferences_form(kinds: dict, current: dict, formdata=None):
    class PreferencesForm(FlaskForm):
        submit = SubmitField(_l("Save"))

    for kind, label in kinds.items():
        setattr(PreferencesForm, f"email_{kind}", BooleanField(label, default=current.get(kind, True)))
    return PreferencesForm(formdata=formdata) if formdata is not None else PreferencesForm()
