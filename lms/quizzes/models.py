"""Quizzes, questions and attempts.

`Question.answer` is the key, and the `fraction`/`feedback` entries of `Question.options` are
part of it: they never leave the server before the review rules allow — views build their
payloads from `public_options()` / `public_choices()`, never from the model itself.
"""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

QUESTION_TYPES = ("single", "multiple", "true-false", "short", "numeric", "matching", "ordering", "essay", "description")
GRADING_METHODS = ("highest", "last", "first", "average")
FEEDBACK_TIMINGS = ("immediate", "after-submit", "after-close")
REVIEW_PARTS = ("score", "responses", "key", "feedback")
LAYOUTS = ("all", "per-page")
NAVIGATIONS = ("free", "sequential")


class Quiz(IdMixin, db.Model):
    __tablename__ = "quizzes"
    __table_args__ = (db.UniqueConstraint("course_id", "key"),)

    course_id = db.Column(db.Integer, db.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False, index=True)
    module_id = db.Column(db.Integer, db.ForeignKey("modules.id"), index=True)
    key = db.Column(db.String(240), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    pass_mark = db.Column(db.Integer, nullable=False, default=70)
    time_limit_minutes = db.Column(db.Integer, nullable=False, default=0)
    max_attempts = db.Column(db.Integer, nullable=False, default=0)
    shuffle = db.Column(db.Boolean, nullable=False, default=False)
    # The quiz file exactly as written (and its name), so export and the editor give it back verbatim.
    source_text = db.deferred(db.Column(db.Text))  # not needed to take a quiz; loaded when read
    source_name = db.Column(db.String(200))
    archived_at = db.Column(db.DateTime)
    # Settings beyond the foundation (issue 4).
    opens_at = db.Column(db.DateTime)
    closes_at = db.Column(db.DateTime)
    grace_seconds = db.Column(db.Integer, nullable=False, default=30)
    grading_method = db.Column(db.String(16), nullable=False, default="highest")
    feedback_timing = db.Column(db.String(16), nullable=False, default="after-submit")
    review = db.Column(db.JSON, nullable=False, default=lambda: list(REVIEW_PARTS))
    # `answers:` in the file (lms.quizzes.markdown_format.ANSWERS_SHOWN).
    answers_shown = db.Column(db.String(16), nullable=False, default="when-done", server_default="when-done")
    layout = db.Column(db.String(16), nullable=False, default="all")
    navigation = db.Column(db.String(16), nullable=False, default="free")
    # None: every question; int: N at random; {"category": n}: N at random per category.
    draw = db.Column(db.JSON)
    # Keys of other quizzes of the course whose questions this quiz draws from (question banks).
    banks = db.Column(db.JSON, nullable=False, default=list)

    course = db.relationship("Course")
    module = db.relationship("Module")
    questions = db.relationship("Question", back_populates="quiz", order_by="Question.position",
                                cascade="all, delete-orphan")

    def active_questions(self):
        return [q for q in self.questions if q.archived_at is None]

    def bank_questions(self):
        """Active questions of the bank quizzes this quiz draws from (same course)."""
        if not self.banks:
            return []
        banks = db.session.scalars(db.select(Quiz).where(Quiz.course_id == self.course_id, Quiz.key.in_(self.banks),
                                                         Quiz.id != self.id)).all()
        return [q for bank in banks for q in bank.active_questions()]

    def can_view(self, user) -> bool:
        return self.archived_at is None and self.course.can_view(user)

    def can_manage(self, user) -> bool:
        return self.course.can_manage(user)

    def is_open(self, now) -> bool:
        return (self.opens_at is None or now >= self.opens_at) and (self.closes_at is None or now < self.closes_at)


class Question(IdMixin, db.Model):
    __tablename__ = "questions"
    __table_args__ = (db.UniqueConstraint("quiz_id", "key"),)

    quiz_id = db.Column(db.Integer, db.ForeignKey("quizzes.id", ondelete="CASCADE"), nullable=False, index=True)
    key = db.Column(db.String(64), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    type = db.Column(db.String(16), nullable=False)
    text_md = db.Column(db.Text, nullable=False)
    text_html = db.Column(db.Text, nullable=False)
    # [{"id": "a", "md": "...", "html": "...", ["fraction": 0.5, "feedback_html": "..."]}]; ids are
    # stable letters, not positions. Matching: the left-hand items; ordering: items in the right order.
    options = db.Column(db.JSON, nullable=False, default=list)
    # Matching only: the right-hand items [{"id", "md", "html"}], including distractors.
    choices = db.Column(db.JSON, nullable=False, default=list)
    # The key, by type: choice → [ids]; short → {"accepted": [{"text", "fraction", "feedback_html"}],
    # "case": bool, "diacritics": bool}; numeric → {"values": [{"value", "tolerance", "fraction", ...}]};
    # matching → {left id: choice id}; ordering → [ids]; essay/description → [].
    answer = db.Column(db.JSON, nullable=False, default=list)
    feedback_html = db.Column(db.Text, nullable=False, default="")
    points = db.Column(db.Numeric(6, 2), nullable=False, default=1)
    category = db.Column(db.String(200), nullable=False, default="")
    tags = db.Column(db.JSON, nullable=False, default=list)
    archived_at = db.Column(db.DateTime)

    quiz = db.relationship("Quiz", back_populates="questions")

    @property
    def graded(self) -> bool:
        return self.type != "description"

    def public_options(self) -> list[dict]:
        return [{"id": option["id"], "html": option["html"]} for option in self.options]

    def public_choices(self) -> list[dict]:
        return [{"id": choice["id"], "html": choice["html"]} for choice in self.choices]


class Attempt(IdMixin, db.Model):
    __tablename__ = "attempts"

    quiz_id = db.Column(db.Integer, db.ForeignKey("quizzes.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    enrollment_id = db.Column(db.Integer, db.ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    number = db.Column(db.Integer, nullable=False, default=1)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    # None when untimed and the quiz never closes.
    deadline = db.Column(db.DateTime, index=True)
    submitted_at = db.Column(db.DateTime)
    score = db.Column(db.Numeric(5, 2))
    passed = db.Column(db.Boolean)
    needs_grading = db.Column(db.Boolean, nullable=False, default=False)
    # What this learner saw: [{"q": question id, "o": [option ids in display order], "c": [choice ids]}].
    layout = db.Column(db.JSON, nullable=False, default=list)
    # Sequential navigation: the furthest page reached; earlier pages are closed.
    page = db.Column(db.Integer, nullable=False, default=0)

    quiz = db.relationship("Quiz")
    user = db.relationship("User")
    enrollment = db.relationship("Enrollment")
    answers = db.relationship("AttemptAnswer", back_populates="attempt", cascade="all, delete-orphan")

    __table_args__ = (
        db.UniqueConstraint("quiz_id", "user_id", "number"),
        # One running attempt per learner and quiz, whatever the requests do at the same instant
        # (starts are also serialised on the enrolment row: operations.start_attempt).
        db.Index("uq_attempts_one_running", "quiz_id", "user_id", unique=True,
                 postgresql_where=db.text("submitted_at IS NULL"), sqlite_where=db.text("submitted_at IS NULL")),
    )

    @property
    def finished(self) -> bool:
        return self.submitted_at is not None

    def slots(self) -> list[dict]:
        """The stored layout; attempts from before layouts were stored are rebuilt from their answers."""
        if self.layout:
            return self.layout
        answered = sorted(self.answers, key=lambda a: (a.question.position, a.question_id))
        return [{"q": a.question_id, "o": [], "c": []} for a in answered]

    def can_answer(self, user) -> bool:
        """Answering, saving, submitting: only the learner whose attempt it is."""
        return bool(user and user.is_authenticated and user.id == self.user_id)

    def can_review(self, user) -> bool:
        """Seeing the attempt and its result: its learner, or whoever manages the quiz (to grade it)."""
        return self.can_answer(user) or bool(user and user.is_authenticated and self.quiz.can_manage(user))


class AttemptAnswer(IdMixin, db.Model):
    __tablename__ = "attempt_answers"
    __table_args__ = (db.UniqueConstraint("attempt_id", "question_id"),)

    attempt_id = db.Column(db.Integer, db.ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False, index=True)
    question_id = db.Column(db.Integer, db.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False)
    # By type: choice/ordering → [ids]; short/numeric/essay → [text]; matching → {left id: choice id}.
    response = db.Column(db.JSON, nullable=False, default=list)
    score = db.Column(db.Numeric(6, 3))
    saved_at = db.Column(db.DateTime)
    # Which change of this answer is stored: the page's per-question version (milliseconds, kept
    # increasing by the page) or, for a plain form post, one above the stored one. A save carrying
    # a version not above this one is a replay or a late older change and stores nothing.
    version = db.Column(db.BigInteger)
    # Immediate feedback: the learner pressed "Check"; the answer is graded and can no longer change.
    checked_at = db.Column(db.DateTime)
    comment = db.Column(db.Text, nullable=False, default="")
    graded_by_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="SET NULL"))
    graded_at = db.Column(db.DateTime)

    attempt = db.relationship("Attempt", back_populates="answers")
    question = db.relationship("Question")
