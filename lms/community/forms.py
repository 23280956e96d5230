from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

_CONSENT_REQUIRED = _l("Record the resident's consent: the number of the signed paper form.")


class ResidentForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the resident's name.")), Length(max=200)])
    phone = StringField(_l("The resident's own phone number"),
                        validators=[DataRequired(_l("Enter the resident's phone number.")), Length(max=20)])
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))])
    hamlet = StringField(_l("Hamlet or residential group (thôn, ấp, khu phố)"), validators=[Optional(), Length(max=120)])
    consent_method = SelectField(_l("Consent"), choices=[("paper", _l("Signed paper form"))], default="paper")
    consent_reference = StringField(_l("Number of the signed consent form"),
                                    validators=[DataRequired(_CONSENT_REQUIRED), Length(max=120)])
    submit = SubmitField(_l("Register the resident"))


class TeamMemberForm(FlaskForm):
    login = StringField(_l("Member's e-mail or phone number"), validators=[DataRequired(_l("Enter an e-mail or phone."))])
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))])
    submit = SubmitField(_l("Add to the team"))


class ContactForm(FlaskForm):
    """The commune's help contact shown on its residents' home page."""

    # Its own label: the team page also has the member form's "Commune or ward".
    commune_id = SelectField(_l("Commune or ward of this contact"), coerce=int,
                             validators=[DataRequired(_l("Choose a commune or ward."))])
    phone = StringField(_l("Phone for help"), validators=[Optional(), Length(max=40)])
    place = StringField(_l("Where to come (address)"), validators=[Optional(), Length(max=200)])
    hours = StringField(_l("When (days and hours)"), validators=[Optional(), Length(max=120)])
    save = SubmitField(_l("Save the contact"))
