from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Give the reason: it is shown on the verification page.")),
                                                     Length(max=1000)])
    submit = SubmitField(_l("Confirm"))


class ReissueForm(FlaskForm):
    holder_name = StringField(_l("Corrected full name"), validators=[DataRequired(_l("Enter the corrected name.")),
                                                                      Length(max=160)])
    submit = SubmitField(_l("Reissue with this name"))
