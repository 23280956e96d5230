"""A learner's runs through a practice simulation, and how each step went.

What the learner types into a simulated field is never stored (it could be real personal data
typed by mistake): only whether it was right, how many wrong tries and hints it took.
"""

from lms.core.db import IdMixin, utcnow
from lms.extensions import db

# Points of a step, by how it was done (percent of the step): first try, later without a hint, later with hints.
FIRST_TRY, LATER, WITH_HINTS = 100, 50, 25


class PracticeRun(IdMixin, db.Model):
    __tablename__ = "practice_runs"
    __table_args__ = (db.Index("ix_practice_runs_lesson_user", "lesson_id", "user_id"),)

    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    lesson_id = db.Column(db.Integer, db.ForeignKey("lessons.id", ondelete="CASCADE"), nullable=False)
    # The step the learner is on (0-based); equals the number of steps once every step is done.
    step = db.Column(db.Integer, nullable=False, default=0)
    step_count = db.Column(db.Integer, nullable=False)
    started_at = db.Column(db.DateTime, nullable=False, default=utcnow)
    finished_at = db.Column(db.DateTime)
    score = db.Column(db.Integer)  # 0–100, set when finished

    lesson = db.relationship("Lesson")
    steps = db.relationship("PracticeStep", back_populates="run", order_by="PracticeStep.position",
                            cascade="all, delete-orphan")

    def step_row(self, position: int):
        return next((row for row in self.steps if row.position == position), None)


class PracticeStep(IdMixin, db.Model):
    __tablename__ = "practice_steps"
    __table_args__ = (db.UniqueConstraint("run_id", "position"),)

    run_id = db.Column(db.Integer, db.ForeignKey("practice_runs.id", ondelete="CASCADE"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    wrong_tries = db.Column(db.Integer, nullable=False, default=0)
    hints_used = db.Column(db.Integer, nullable=False, default=0)
    # The button chosen by the last wrong try (tap steps), to show its feedback; never typed text.
    last_choice = db.Column(db.Integer)
    completed_at = db.Column(db.DateTime)

    run = db.relationship("PracticeRun", back_populates="steps")

    @property
    def points(self) -> int:
        if self.completed_at is None:
            return 0
        if self.wrong_tries == 0:
            return FIRST_TRY
        return WITH_HINTS if self.hints_used else LATER
