"""Quizzes, questions and attempts.

`Question.answer` is the key; it never leaves the server before grading — views build
their payloads from `public_options()`, never from the model itself.
"""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

QUESTION_TYPES = ("single", "multiple")


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
    source_text = db.Column(db.Text)
    source_name = db.Column(db.String(200))
    archived_at = db.Column(db.DateTime)

    course = db.relationship("Course")
    module = db.relationship("Module")
    questions = db.relationship("Question", back_populates="quiz", order_by="Question.position",
                                cascade="all, delete-orphan")

    def active_questions(self):
        return [q for q in self.questions if q.archived_at is None]

    def can_view(self, user) -> bool:
        return self.archived_at is None and self.course.can_view(user)


class Question(IdMixin, db.Model):
    __tablename__ = "questions"
    __table_args__ = (db.UniqueConstraint("quiz_id", "key"),)

    quiz_id = db.Column(db.Integer, db.ForeignKey("quizzes.id", ondelete="CASCADE"), nullable=False, index=True)
    key = db.Column(db.String(64), nullable=False)
    position = db.Column(db.Integer, nullable=False, default=0)
    type = db.Column(db.String(16), nullable=False)
    text_md = db.Column(db.Text, nullable=False)
    text_html = db.Column(db.Text, nullable=False)
    # [{"id": "a", "md": "...", "html": "..."}]; ids are stable letters, not positions.
    options = db.Column(db.JSON, nullable=False, default=list)
    answer = db.Column(db.JSON, nullable=False, default=list)
    feedback_html = db.Column(db.Text, nullable=False, default="")
    points = db.Column(db.Numeric(6, 2), nullable=False, default=1)
    archived_at = db.Column(db.DateTime)

    quiz = db.relationship("Quiz", back_populates="questions")

    def public_options(self) -> list[dict]:
        return [{"id": option["id"], "html": option["html"]} for option in self.options]


class Attempt(IdMixin, db.Model):
    __tablename__ = "attempts"

    quiz_id = db.Column(db.Integer, db.ForeignKey("quizzes.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    enrollment_id = db.Column(db.Integer, db.ForeignKey("enrollments.id", ondelete="CASCADE"), index=True)
    number = db.Column(db.Integer, nullable=False, default=1)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    submitted_at = db.Column(db.DateTime)
    score = db.Column(db.Numeric(5, 2))
    passed = db.Column(db.Boolean)

    quiz = db.relationship("Quiz")
    user = db.relationship("User")
    enrollment = db.relationship("Enrollment")
    answers = db.relationship("AttemptAnswer", back_populates="attempt", cascade="all, delete-orphan")

    __table_args__ = (db.UniqueConstraint("quiz_id", "user_id", "number"),)

    def can_view(self, user) -> bool:
        return bool(user and user.is_authenticated and (user.id == self.user_id or user.is_admin))


class AttemptAnswer(IdMixin, db.Model):
    __tablename__ = "attempt_answers"
    __table_args__ = (db.UniqueConstraint("attempt_id", "question_id"),)

    attempt_id = db.Column(db.Integer, db.ForeignKey("attempts.id", ondelete="CASCADE"), nullable=False, index=True)
    question_id = db.Column(db.Integer, db.ForeignKey("questions.id", ondelete="CASCADE"), nullable=False)
    response = db.Column(db.JSON, nullable=False, default=list)
    score = db.Column(db.Numeric(6, 3))

    attempt = db.relationship("Attempt", back_populates="answers")
    question = db.relationship("Question")
