from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import URL, DataRequired, Length, Optional

from lms.imports.forms import AUDIENCE_CHOICES

KIND_CHOICES = [("document", _l("Document (PDF, DOCX, ODT, image)")), ("video", _l("Video")),
                ("audio", _l("Audio")), ("link", _l("External link")), ("article", _l("Article (Markdown)"))]
STATUS_CHOICES = [("published", _l("Published")), ("draft", _l("Draft"))]


class ItemForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=300)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="document")
    summary = TextAreaField(_l("Summary"), validators=[Length(max=2000)])
    body_md = TextAreaField(_l("Text (Markdown): the article, or a description above the file"))
    url = StringField(_l("Address of the external link"), validators=[
        Optional(), URL(message=_l("Enter a full address starting with https://")), Length(max=1000)])
    topic = StringField(_l("Topic"), validators=[Length(max=120)])
    collections = StringField(_l("Collections (separated by ;)"), validators=[Length(max=600)])
    audience = SelectMultipleField(_l("Audience (none chosen: everyone)"), choices=AUDIENCE_CHOICES)
    locality_id = SelectField(_l("Locality"), coerce=str, choices=[])
    agency = StringField(_l("Issuing agency"), validators=[Length(max=300)])
    licence = StringField(_l("Licence"), validators=[DataRequired(_l("State the licence.")), Length(max=200)])
    published_on = DateField(_l("Published on"), validators=[Optional()])
    version = StringField(_l("Version"), validators=[Length(max=40)])
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, default="published")
    file = FileField(_l("File"))
    captions = FileField(_l("Captions or subtitles (.vtt, .srt)"))
    submit = SubmitField(_l("Save"))


class ArchiveForm(FlaskForm):
    submit = SubmitField(_l("Archive"))
