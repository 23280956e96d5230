"""What a person reading the README and the course would know, read from the files that say it:
the demo accounts (README table), the citizen course's title and lessons, and its quiz's answers.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CITIZEN_COURSE = "ky-nang-so-cong-dan"


def demo_account(role: str) -> tuple[str, str]:
    """(log-in, password) of a demo role from README.md's "Demo accounts" table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^\|\s*{re.escape(role)}\b[^|]*\|\s*`([^`]+)`\s*\|\s*`([^`]+)`", readme, re.M)
    assert match, f"README.md has no demo account for {role!r}"
    return match.group(1), match.group(2)


def _front_matter(path: Path) -> tuple[dict, str]:
    _, header, body = path.read_text(encoding="utf-8").split("---", 2)
    return yaml.safe_load(header), body


def course_title(slug: str) -> str:
    return _front_matter(ROOT / "courses" / slug / "course.md")[0]["title"]


def course_code(slug: str) -> str:
    return _front_matter(ROOT / "courses" / slug / "course.md")[0]["code"]


def other_course_titles(slug: str) -> list[str]:
    return [course_title(folder.name) for folder in sorted((ROOT / "courses").iterdir())
            if (folder / "course.md").exists() and folder.name != slug]


def lesson_titles(slug: str) -> list[str]:
    """Lesson titles in course order (folders and files are numbered)."""
    titles = []
    for module in sorted(p for p in (ROOT / "courses" / slug).iterdir() if p.is_dir() and p.name != "assets"):
        for lesson in sorted(module.glob("*.md")):
            if lesson.name not in ("module.md", "quiz.md"):
                titles.append(_front_matter(lesson)[0]["title"])
    return titles


@dataclass
class Question:
    text: str
    kind: str
    right: list[str]
    wrong: list[str]


@dataclass
class Quiz:
    title: str
    questions: list[Question]


def quiz(slug: str) -> Quiz:
    """The course's quiz as its file says (`## question`, `type:`, `- [x] right` / `- [ ] wrong`)."""
    path = next((ROOT / "courses" / slug).glob("*/quiz.md"))
    settings, body = _front_matter(path)
    questions = []
    for block in re.split(r"^## ", body, flags=re.M)[1:]:
        lines = block.splitlines()
        kind = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("type:"))
        options = [re.match(r"- \[([ x])\] (.*)", line).groups() for line in lines if line.startswith("- [")]
        questions.append(Question(lines[0].strip(), kind, [text for mark, text in options if mark == "x"],
                                  [text for mark, text in options if mark == " "]))
    return Quiz(settings["title"], questions)


@dataclass
class SimulationStep:
    title: str
    action: str  # "tap" or "input"
    label: str  # the field's label (input)
    right: str  # the right button's text, or the value to type
    wrong: list[str]  # the other buttons (tap)
    hints: list[str]


def simulations(slug: str) -> dict[str, list[SimulationStep]]:
    """Title → steps of every practice simulation (`*.sim.md`) of the course, as its file says."""
    from lms.practice.format import parse_simulation

    found = {}
    for path in sorted((ROOT / "courses" / slug).glob("*/*.sim.md")):
        source = parse_simulation(path)
        found[source.title] = [
            SimulationStep(step.title, step.action, step.label,
                           next((o.label for o in step.options if o.correct), step.answers[0] if step.answers else ""),
                           [o.label for o in step.options if not o.correct], step.hints)
            for step in source.steps]
    return found
