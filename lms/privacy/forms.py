from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length


class NoticeForm(FlaskForm):
    body_vi = TextAreaField(_l("Notice in Vietnamese"), validators=[
        DataRequired(_l("Write the notice in Vietnamese.")), Length(max=20000)])
    body_en = TextAreaField(_l("Notice in English"), validators=[
        DataRequired(_l("Write the notice in English.")), Length(max=20000)])
    submit = SubmitField(_l("Publish a new version"))


class ReviewForm(FlaskForm):
    consent = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal data."),
                           validators=[DataRequired(_l("Tick the box to accept the notice, or log out."))])
    submit = SubmitField(_l("Accept and continue"))
