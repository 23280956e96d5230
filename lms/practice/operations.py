"""Doing a simulation: start, answer a step, take a hint, go on, finish. Flush only; views commit.

Each change locks the run's row (PostgreSQL `FOR UPDATE`; SQLite writers are one at a time), so a
double-tapped button or two tabs cannot count one wrong try twice or skip a step.
"""

import unicodedata

from sqlalchemy import select

from lms.core.db import insert_ignoring_conflict, lock_for, utcnow
from lms.extensions import db
from lms.practice.models import PracticeRun, PracticeStep
from lms.practice.queries import current_run, is_under_way, steps_of


class PracticeError(ValueError):
    pass


def _locked(run: PracticeRun) -> PracticeRun:
    return db.session.scalar(select(PracticeRun).where(PracticeRun.id == run.id).with_for_update()
                             .execution_options(populate_existing=True))


def start(user, lesson) -> PracticeRun:
    """A new run, unless one is under way (then that one: a double tap starts one run)."""
    lock_for(f"practice-start:{user.id}:{lesson.id}")
    run = current_run(user, lesson)
    if is_under_way(run, lesson):
        return run
    run = PracticeRun(user_id=user.id, lesson_id=lesson.id, step=0, step_count=len(steps_of(lesson)))
    db.session.add(run)
    db.session.flush()
    return run


def _step_row(run: PracticeRun, position: int) -> PracticeStep:
    insert_ignoring_conflict(PracticeStep, {"run_id": run.id, "position": position, "wrong_tries": 0, "hints_used": 0},
                             ("run_id", "position"))
    return db.session.scalar(select(PracticeStep).where(PracticeStep.run_id == run.id, PracticeStep.position == position)
                             .execution_options(populate_existing=True))


def normalise(value: str) -> str:
    """How typed answers are compared: NFC, no case, no spaces or dots (`482 913` = `482913`)."""
    text = unicodedata.normalize("NFC", value or "").casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in ".-")


def is_right(step: dict, choice: int | None, typed: str | None) -> bool:
    if step["action"] == "tap":
        return choice is not None and 0 <= choice < len(step["options"]) and step["options"][choice]["correct"]
    return normalise(typed or "") in {normalise(answer) for answer in step["answers"]}


def answer(run: PracticeRun, lesson, position: int, choice: int | None = None, typed: str | None = None) -> bool:
    """Record one try at the step the learner is on; returns whether it was right.

    `position` is the step the page showed: a try sent from an older page (another tab, the back
    button) is refused instead of being counted against the step the learner is on now."""
    run = _locked(run)
    steps = steps_of(lesson)
    if not is_under_way(run, lesson) or position != run.step or run.step >= len(steps):
        raise PracticeError("stale")
    step = steps[run.step]
    if step["action"] == "tap" and (choice is None or not 0 <= choice < len(step["options"])):
        raise PracticeError("choice")
    row = _step_row(run, run.step)
    if row.completed_at is not None:
        return True
    if is_right(step, choice, typed):
        row.completed_at = utcnow()
        row.last_choice = None
    else:
        row.wrong_tries += 1
        row.last_choice = choice
    db.session.flush()
    return row.completed_at is not None


def take_hint(run: PracticeRun, lesson, position: int) -> int:
    """Show one more hint (only after a wrong try); returns how many are shown now."""
    run = _locked(run)
    steps = steps_of(lesson)
    if not is_under_way(run, lesson) or position != run.step or run.step >= len(steps):
        raise PracticeError("stale")
    row = _step_row(run, run.step)
    if row.wrong_tries and row.completed_at is None:
        row.hints_used = min(row.hints_used + 1, len(steps[run.step]["hints"]))
        db.session.flush()
    return row.hints_used


def advance(run: PracticeRun, lesson, position: int, enrollment=None) -> PracticeRun:
    """Leave a step done right for the next one; after the last one, finish the run."""
    run = _locked(run)
    row = run.step_row(position)
    if (not is_under_way(run, lesson) or position != run.step or row is None or row.completed_at is None):
        raise PracticeError("stale")
    run.step += 1
    if run.step >= run.step_count:
        _finish(run, lesson, enrollment)
    db.session.flush()
    return run


def _finish(run: PracticeRun, lesson, enrollment) -> None:
    db.session.flush()
    db.session.refresh(run)
    run.finished_at = utcnow()
    run.score = round(sum(row.points for row in run.steps) / max(run.step_count, 1))
    # A finished simulation counts toward the course exactly like a lesson marked done: enrollment
    # listens and marks it, so the course's completion rules and certificate follow.
    if enrollment is not None:
        from lms.core.signals import practice_finished

        practice_finished.send(enrollment, lesson=lesson)
