"""What trainers see of a simulation: the funnel of its steps over each learner's first run."""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, select

from lms.extensions import db
from lms.practice.models import PracticeRun, PracticeStep


@dataclass
class FunnelStep:
    position: int
    title: str
    reached: int  # learners whose first run got to this step
    done: int  # … and did it right (eventually)
    first_try: int  # … right at the first try
    failed: int  # … with at least one wrong try
    wrong_tries: int  # all wrong tries on this step
    hints: int  # hints shown on this step

    @property
    def failed_share(self) -> float:
        return self.failed / self.reached if self.reached else 0.0


def first_run_ids(lesson_id: int):
    """Each learner's first run: "where do people fail" is about first encounters, not practice repeats."""
    return (select(func.min(PracticeRun.id)).where(PracticeRun.lesson_id == lesson_id)
            .group_by(PracticeRun.user_id).scalar_subquery())


def funnel(lesson) -> tuple[list[FunnelStep], dict]:
    steps = (lesson.simulation or {}).get("steps", [])
    runs = first_run_ids(lesson.id)
    reached_rows = db.session.execute(select(PracticeRun.step, PracticeRun.finished_at.is_not(None), func.count())
                                      .where(PracticeRun.id.in_(runs)).group_by(PracticeRun.step,
                                                                                PracticeRun.finished_at.is_not(None))).all()
    stats = {row.position: row for row in db.session.execute(
        select(PracticeStep.position,
               func.count(PracticeStep.completed_at).label("done"),
               func.sum(case((and_(PracticeStep.completed_at.is_not(None), PracticeStep.wrong_tries == 0), 1),
                             else_=0)).label("first_try"),
               func.sum(case((PracticeStep.wrong_tries > 0, 1), else_=0)).label("failed"),
               func.sum(PracticeStep.wrong_tries).label("wrong_tries"),
               func.sum(PracticeStep.hints_used).label("hints"))
        .where(PracticeStep.run_id.in_(runs)).group_by(PracticeStep.position)).all()}
    result = []
    for position, step in enumerate(steps):
        reached = sum(count for at, _finished, count in reached_rows if at >= position)
        row = stats.get(position)
        result.append(FunnelStep(position, step["title"], reached, int(row.done) if row else 0,
                                 int(row.first_try or 0) if row else 0, int(row.failed or 0) if row else 0,
                                 int(row.wrong_tries or 0) if row else 0, int(row.hints or 0) if row else 0))
    learners = sum(count for _at, _finished, count in reached_rows)
    finished = sum(count for _at, done, count in reached_rows if done)
    scores = db.session.scalar(select(func.avg(PracticeRun.score)).where(PracticeRun.id.in_(runs),
                                                                         PracticeRun.finished_at.is_not(None)))
    summary = {"learners": learners, "finished": finished, "average_score": round(float(scores)) if scores is not None else None,
               "hardest": max(result, key=lambda s: (s.failed_share, s.wrong_tries), default=None)}
    if summary["hardest"] is not None and summary["hardest"].failed == 0:
        summary["hardest"] = None
    return result, summary


# What a step is made of, in the order a reader checks it (the `*.sim.md` parts, docs/course-format.md §4b).
STEP_PARTS = ("screen", "message", "qr", "action", "label", "answers", "options", "hints", "why")


def _steps(text: str) -> list | None:
    from lms.practice.format import SourceError, parse_simulation

    found: list = []
    try:
        return parse_simulation("revision.sim.md", text=text or "", errors=found).steps
    except SourceError:  # front matter that is not YAML: no steps to compare
        return None


def step_changes(old_text: str, new_text: str) -> list[dict] | None:
    """Which steps of a simulation changed between two versions of its file: one entry per step,
    {"status": same|changed|added|removed, "old"/"new": (number, title) or None, "parts": [changed parts]},
    steps paired by title (difflib), so an inserted step does not mark every later one changed.
    None when either version cannot be read as a simulation (the text diff still shows it)."""
    import difflib

    old, new = _steps(old_text), _steps(new_text)
    if old is None or new is None:
        return None
    changes = []
    matcher = difflib.SequenceMatcher(a=[s.title for s in old], b=[s.title for s in new], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        pairs = list(zip(range(a0, a1), range(b0, b1), strict=False)) if tag in ("equal", "replace") else []
        for i, j in pairs:
            parts = [part for part in STEP_PARTS if getattr(old[i], part) != getattr(new[j], part)]
            renamed = old[i].title != new[j].title
            changes.append({"status": "changed" if parts or renamed else "same", "old": (i + 1, old[i].title),
                            "new": (j + 1, new[j].title), "parts": (["title"] if renamed else []) + parts})
        changes += [{"status": "removed", "old": (i + 1, old[i].title), "new": None, "parts": []}
                    for i in range(a0 + len(pairs), a1)]
        changes += [{"status": "added", "old": None, "new": (j + 1, new[j].title), "parts": []}
                    for j in range(b0 + len(pairs), b1)]
    return changes


def steps_of(lesson) -> list[dict]:
    return (lesson.simulation or {}).get("steps", [])


def current_run(user, lesson) -> PracticeRun | None:
    """The learner's newest run of this simulation (finished or not)."""
    return db.session.scalar(select(PracticeRun).where(PracticeRun.user_id == user.id, PracticeRun.lesson_id == lesson.id)
                             .order_by(PracticeRun.id.desc()).limit(1))


def is_under_way(run: PracticeRun | None, lesson) -> bool:
    """An unfinished run of the simulation as it is now (a run begun before its steps were edited
    is left behind: the learner starts again)."""
    return run is not None and run.finished_at is None and run.step_count == len(steps_of(lesson))
