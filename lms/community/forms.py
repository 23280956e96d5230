from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

_CONSENT_REQUIRED = _l("Record the resident's consent: the number of the signed paper form.")
_CODE_REQUIRED = _l("Send the code by SMS, then type the 6 digits the resident reads from their phone.")


class ResidentForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the resident's name.")), Length(max=200)])
    phone = StringField(_l("The resident's own phone number"),
                        validators=[DataRequired(_l("Enter the resident's phone number.")), Length(max=20)])
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))])
    hamlet = StringField(_l("Hamlet or residential group (thôn, ấp, khu phố)"), validators=[Optional(), Length(max=120)])
    consent_method = RadioField(_l("Consent"), choices=[("sms", _l("Code sent by SMS to the resident's phone")),
                                                        ("paper", _l("Signed paper form"))], default="sms")
    # Required for the method chosen only (checked in the view): the form's number, or the code read back.
    consent_reference = StringField(_l("Number of the signed consent form"), validators=[Optional(), Length(max=120)])
    consent_code = StringField(_l("Code the resident reads from their phone"),
                               validators=[Optional(), Regexp(r"^\s*\d{6}\s*$", message=_l("The code has 6 digits."))])
    send_code = SubmitField(_l("Send the code by SMS"))
    submit = SubmitField(_l("Register the resident"))

    def consent_missing(self):
        """Why the consent chosen is not recorded yet (None when it is)."""
        if self.consent_method.data == "paper" and not (self.consent_reference.data or "").strip():
            return _CONSENT_REQUIRED
        if self.consent_method.data == "sms" and not (self.consent_code.data or "").strip():
            return _CODE_REQUIRED
        return None


class TeamMemberForm(FlaskForm):
    login = StringField(_l("Member's e-mail or phone number"), validators=[DataRequired(_l("Enter an e-mail or phone."))])
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))])
    submit = SubmitField(_l("Add to the team"))


class TargetForm(FlaskForm):
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))],
                             id="target_commune_id")
    reached = IntegerField(_l("Residents to reach"), validators=[InputRequired(_l("Enter a whole number.")),
                                                                 NumberRange(min=1, max=10_000_000)])
    completed = IntegerField(_l("Residents completing a course"), validators=[InputRequired(_l("Enter a whole number.")),
                                                                              NumberRange(min=0, max=10_000_000)])
    counts = SelectField(_l("Who counts"), choices=[("all", _l("Assisted and self-learners")),
                                                    ("assisted", _l("Assisted residents only")),
                                                    ("self", _l("Self-learners only"))])
    due_on = DateField(_l("By (date, optional)"), validators=[Optional()], id="target_due_on")
    submit = SubmitField(_l("Save the target"))


class HamletImportForm(FlaskForm):
    # Ids of their own: three forms with a commune on one page.
    commune_id = SelectField(_l("Commune or ward"), coerce=int, validators=[DataRequired(_l("Choose a commune or ward."))],
                             id="hamlet_commune_id")
    file = FileField(_l("CSV file: one hamlet per line"), validators=[FileRequired(_l("Choose a CSV file."))])
    submit = SubmitField(_l("Import the hamlets"))


class ContactForm(FlaskForm):
    """The commune's help contact shown on its residents' home page."""

    # Its own label: the team page also has the member form's "Commune or ward".
    commune_id = SelectField(_l("Commune or ward of this contact"), coerce=int,
                             validators=[DataRequired(_l("Choose a commune or ward."))])
    phone = StringField(_l("Phone for help"), validators=[Optional(), Length(max=40)])
    place = StringField(_l("Where to come (address)"), validators=[Optional(), Length(max=200)])
    hours = StringField(_l("When (days and hours)"), validators=[Optional(), Length(max=120)])
    save = SubmitField(_l("Save the contact"))
