from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

_TITLE = [DataRequired(_l("Enter a title.")), Length(max=200, message=_l("At most %(max)d characters."))]


class NewCourseForm(FlaskForm):
    title = StringField(_l("Course title"), validators=_TITLE)
    slug = StringField(_l("Address name (optional)"), validators=[
        Optional(), Length(max=120), Regexp(r"^[a-z0-9][a-z0-9-]*$", message=_l("Use only a-z, 0-9 and '-'."))])
    submit = SubmitField(_l("Create the course"))


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class CourseForm(FlaskForm):
    opened = HiddenField()  # fingerprint of what the editor showed: the stale-save guard
    title = StringField(_l("Course title"), validators=_TITLE)
    code = StringField(_l("Code (shown on certificates)"), validators=[DataRequired(_l("Enter a code.")), Length(max=40)])
    program = StringField(_l("Programme"), validators=[Optional(), Length(max=60)])
    audience = CheckboxesField(_l("Who may enrol"), choices=[
        ("citizen", _l("Citizens")), ("official", _l("Officials")), ("cio", _l("CIOs"))])
    hours = DecimalField(_l("Study time (hours)"), places=2, validators=[
        Optional(), NumberRange(min=0, max=10_000, message=_l("Enter a number between %(min)s and %(max)s."))])
    passing_score = IntegerField(_l("Passing score (%)"), default=70, validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Enter a number between %(min)s and %(max)s."))])
    certificate = BooleanField(_l("Issue a certificate on completion"), default=True)
    valid_months = IntegerField(_l("Certificate valid for (months, optional)"), validators=[
        Optional(), NumberRange(min=1, max=600, message=_l("Enter a number between %(min)s and %(max)s."))])
    tags = StringField(_l("Tags (separated by commas)"), validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description (Markdown)"))
    submit = SubmitField(_l("Save"))


class ModuleForm(FlaskForm):
    opened = HiddenField()  # fingerprint of what the editor showed: the stale-save guard
    title = StringField(_l("Module title"), validators=_TITLE)
    intro = TextAreaField(_l("Introduction (Markdown)"))
    submit = SubmitField(_l("Save"))


class TitleForm(FlaskForm):
    title = StringField(_l("Title"), validators=_TITLE)
    submit = SubmitField(_l("Add"))


class LessonForm(FlaskForm):
    title = StringField(_l("Lesson title"), validators=_TITLE)
    minutes = IntegerField(_l("Minutes (optional)"), validators=[
        Optional(), NumberRange(min=0, max=1000, message=_l("Enter a number between %(min)s and %(max)s."))])
    body = TextAreaField(_l("Lesson text (Markdown)"))
    version = HiddenField()
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save"))


class QuizForm(FlaskForm):
    opened = HiddenField()  # fingerprint of what the editor showed: the stale-save guard
    text = TextAreaField(_l("Quiz file (Markdown quiz syntax)"), validators=[DataRequired(_l("The quiz cannot be empty."))])
    submit = SubmitField(_l("Save"))


class OwnerForm(FlaskForm):
    login = StringField(_l("E-mail or phone number of the trainer"), validators=[DataRequired(_l("Enter an e-mail or phone."))])
    submit = SubmitField(_l("Give access"))


_WHOLE = _l("Enter a whole number between %(min)s and %(max)s.")


class QuizSettingsForm(FlaskForm):
    """Moodle's quiz settings, written back as the quiz file's front matter (see quiz_settings.py)."""

    opened = HiddenField()  # fingerprint of what the editor showed: the stale-save guard
    title = StringField(_l("Quiz title"), validators=_TITLE)
    pass_mark = IntegerField(_l("Pass mark (%) — empty: the course's passing score"),
                             validators=[Optional(), NumberRange(min=0, max=100, message=_WHOLE)])
    time_limit = IntegerField(_l("Time limit (minutes, 0 = none)"), default=0,
                              validators=[Optional(), NumberRange(min=0, max=10_000, message=_WHOLE)])
    grace = IntegerField(_l("Grace after the time limit (seconds) for slow connections"), default=30,
                         validators=[Optional(), NumberRange(min=0, max=3600, message=_WHOLE)])
    attempts = IntegerField(_l("Attempts allowed (0 = unlimited)"), default=0,
                            validators=[Optional(), NumberRange(min=0, max=1000, message=_WHOLE)])
    opens = DateTimeLocalField(_l("Opens (Vietnam time, optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes = DateTimeLocalField(_l("Closes (Vietnam time, optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    grading = SelectField(_l("Grade of the quiz when several attempts"), choices=[
        ("highest", _l("Highest attempt")), ("last", _l("Last attempt")), ("first", _l("First attempt")),
        ("average", _l("Average of attempts"))])
    feedback = SelectField(_l("When learners see whether they were right"), choices=[
        ("after-submit", _l("After submitting the attempt")), ("immediate", _l("Immediately, per question (Check button)")),
        ("after-close", _l("After the quiz closes"))])
    review = CheckboxesField(_l("The review shows"), choices=[
        ("score", _l("Score")), ("responses", _l("The learner's answers")), ("key", _l("Right answers")),
        ("feedback", _l("Feedback"))])
    answers = SelectField(_l("When the review shows the right answers"), default="when-done", choices=[
        ("when-done", _l("When no attempt is left or the quiz has closed (recommended)")),
        ("after-submit", _l("After every attempt (practice quizzes)"))])
    layout = SelectField(_l("Layout"), choices=[("all", _l("All questions on one page")),
                                                 ("per-page", _l("One question per page"))])
    navigation = SelectField(_l("Navigation"), choices=[("free", _l("Free: go back and forth")),
                                                         ("sequential", _l("Sequential: no going back"))])
    shuffle = BooleanField(_l("Shuffle questions and answer options"))
    banks = CheckboxesField(_l("Draw from these question banks (other quizzes of the course)"), choices=[])
    draw_mode = RadioField(_l("Questions asked"), default="all", choices=[
        ("all", _l("Every question of the quiz")), ("count", _l("A number of questions at random")),
        ("category", _l("A number at random from each category"))])
    draw_count = IntegerField(_l("How many questions at random"),
                              validators=[Optional(), NumberRange(min=1, max=10_000, message=_WHOLE)])
    submit = SubmitField(_l("Save settings"))
