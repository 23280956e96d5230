"""Practice simulations (`*.sim.md`): parsing and checking, with `file:line` for every problem.

A simulation is a lesson made of phone-sized steps that imitate a public e-service. The file:

    ---
    title: Kích hoạt tài khoản định danh mức 2
    app: Ứng dụng định danh (mô phỏng)
    ---
    Lời giới thiệu (Markdown).

    ## Tên màn hình                       ← a step
    Nội dung màn hình (Markdown).
    message: Người gửi | Nội dung tin nhắn  ← optional fake SMS / notification panel
    qr: nội dung mã QR luyện tập           ← optional practice QR code
    action: tap                            ← tap (choose a button) or input (type a value)
    - [ ] Nút sai
      > Vì sao nút này sai                 ← optional, shown when that button is chosen
    - [x] Nút đúng
    label: Mã OTP                          ← input only: the field's label
    answer: 482913 | 482 913               ← input only: accepted values
    hint: Gợi ý thứ nhất                   ← one or more, offered after a wrong try
    > Vì sao: giải thích sau bước này      ← required: why this is the right action

Nothing here touches the database; the catalog's importer stores the parsed steps.
"""

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.core.frontmatter import SourceError, parse, read_text

SIMULATION_SUFFIX = ".sim.md"
SIMULATION_KEYS = {"title", "minutes", "id", "app"}
STEP_KEYS = ("message", "qr", "action", "label", "answer", "hint")
ACTIONS = ("tap", "input")
DEFAULT_APP = "Ứng dụng mô phỏng"
_DIRECTIVE = re.compile(r"^([A-Za-z_]+):\s*(.*)$")
_OPTION = re.compile(r"^- \[([ xX])\]\s+(.+)$")
_OPTION_FEEDBACK = re.compile(r"^\s{2,}>\s?(.*)$")


@dataclass
class Option:
    label: str
    correct: bool
    feedback: str = ""


@dataclass
class Step:
    title: str
    line: int
    screen: list[str] = field(default_factory=list)
    message: tuple[str, str] | None = None
    qr: str = ""
    action: str = ""
    label: str = ""
    answers: list[str] = field(default_factory=list)
    options: list[Option] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    why: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def screen_md(self) -> str:
        return "\n".join(self.screen).strip()

    @property
    def why_md(self) -> str:
        return "\n".join(self.why).strip()


@dataclass
class SimulationSource:
    title: str
    minutes: int | None
    explicit_id: str | None
    app: str
    intro: str
    steps: list[Step]
    text: str


def is_simulation_file(path: Path) -> bool:
    return path.name.endswith(SIMULATION_SUFFIX)


def simulation_stem(path: Path) -> str:
    """`03-kich-hoat-vneid.sim.md` → `03-kich-hoat-vneid` (the numeric prefix is stripped by the caller)."""
    return path.name[: -len(SIMULATION_SUFFIX)]


def parse_simulation(path, text: str | None = None, errors: list[SourceError] | None = None) -> SimulationSource:
    """Parse a simulation; every problem goes to `errors` (or the first one is raised without a list)."""
    path = Path(path)
    text = read_text(path) if text is None else text.replace("\r\n", "\n")
    found: list[SourceError] = []
    document = parse(path, text)
    meta = document.meta
    for key in meta:
        if key not in SIMULATION_KEYS:
            guess = difflib.get_close_matches(str(key), sorted(SIMULATION_KEYS), n=1)
            hint = f" — did you mean `{guess[0]}`?" if guess else ""
            found.append(SourceError(path, _meta_line(text, key), f"unknown front-matter key `{key}`{hint}"))
    title = str(meta.get("title") or "").strip()
    if not title:
        found.append(SourceError(path, 1, "a simulation needs a `title` in its front matter"))
    minutes = meta.get("minutes")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 <= minutes <= 1000):
        found.append(SourceError(path, _meta_line(text, "minutes"), "`minutes` must be a number between 0 and 1000"))
        minutes = None
    intro, steps = _read_steps(path, document.body.split("\n"), document.body_line, found)
    if not steps:
        found.append(SourceError(path, document.body_line, "a simulation needs at least one step (a `## ` heading)"))
    for step in steps:
        found.extend(_step_errors(path, step))
    found.sort(key=lambda error: error.line or 0)
    if errors is None and found:
        raise found[0]
    if errors is not None:
        errors.extend(found)
    return SimulationSource(title, minutes, str(meta["id"]) if meta.get("id") else None,
                            str(meta.get("app") or DEFAULT_APP).strip(), intro, steps, text)


def _meta_line(text: str, key) -> int:
    for number, line in enumerate(text.split("\n")[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if re.match(rf"^\s*['\"]?{re.escape(str(key))}['\"]?\s*:", line):
            return number
    return 2


def _read_steps(path: Path, lines: list[str], first_line: int, found: list[SourceError]) -> tuple[str, list[Step]]:
    intro: list[str] = []
    steps: list[Step] = []
    in_fence = False
    for offset, line in enumerate(lines):
        number = first_line + offset
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        if not in_fence and line.startswith("## "):
            steps.append(Step(title=line[3:].strip(), line=number))
            continue
        if not steps:
            intro.append(line)
            continue
        if in_fence:
            steps[-1].screen.append(line)
            continue
        _read_step_line(path, steps[-1], line, number, found)
    return "\n".join(intro).strip(), steps


def _read_step_line(path: Path, step: Step, line: str, number: int, found: list[SourceError]) -> None:
    option = _OPTION.match(line)
    feedback = _OPTION_FEEDBACK.match(line)
    directive = _DIRECTIVE.match(line)
    if option:
        step.options.append(Option(option.group(2).strip(), option.group(1) != " "))
        step.lines.setdefault("options", number)
    elif feedback and step.options:
        joined = (step.options[-1].feedback + "\n" + feedback.group(1)).strip()
        step.options[-1].feedback = joined
    elif line.startswith(">"):
        step.why.append(line[1:].removeprefix(" "))
        step.lines.setdefault("why", number)
    elif directive and directive.group(1) in STEP_KEYS:
        _read_directive(path, step, directive.group(1), directive.group(2).strip(), number, found)
    else:
        if directive:
            guess = difflib.get_close_matches(directive.group(1), STEP_KEYS, n=1)
            if guess:
                found.append(SourceError(path, number, f"unknown step key `{directive.group(1)}` — did you mean `{guess[0]}`?"))
                return
        step.screen.append(line)


def _read_directive(path: Path, step: Step, key: str, value: str, number: int, found: list[SourceError]) -> None:
    if key != "hint" and key in step.lines:
        found.append(SourceError(path, number, f"`{key}:` is given twice in the step “{step.title}”"))
        return
    step.lines.setdefault(key, number)
    if not value:
        found.append(SourceError(path, number, f"`{key}:` needs a value"))
    elif key == "message":
        sender, bar, body = value.partition("|")
        step.message = (sender.strip(), body.strip()) if bar else ("Tin nhắn", value)
    elif key == "answer":
        step.answers = [part.strip() for part in value.split("|") if part.strip()]
    elif key == "hint":
        step.hints.append(value)
    else:
        setattr(step, key, value)


def _step_errors(path: Path, step: Step) -> list[SourceError]:
    errors = []
    where = step.lines.get("action", step.line)
    if not step.title:
        errors.append(SourceError(path, step.line, "a step needs a title after `## `"))
    if not step.action:
        errors.append(SourceError(path, step.line, f"the step “{step.title}” has no `action:` ({' or '.join(ACTIONS)})"))
    elif step.action not in ACTIONS:
        guess = difflib.get_close_matches(step.action, ACTIONS, n=1)
        hint = f" — did you mean `{guess[0]}`?" if guess else ""
        errors.append(SourceError(path, where, f"unknown action `{step.action}`; use {' or '.join(ACTIONS)}{hint}"))
    elif step.action == "tap":
        errors.extend(_tap_errors(path, step))
    else:
        errors.extend(_input_errors(path, step))
    if not step.hints:
        errors.append(SourceError(path, step.line, f"the step “{step.title}” needs at least one `hint:` "
                                                   "(offered after a wrong try)"))
    if not step.why_md:
        errors.append(SourceError(path, step.line, f"the step “{step.title}” needs a `> ` line explaining why "
                                                   "(shown after the step)"))
    return errors


def _tap_errors(path: Path, step: Step) -> list[SourceError]:
    errors = []
    line = step.lines.get("options", step.line)
    if len(step.options) < 2:
        errors.append(SourceError(path, line, "a `tap` step needs at least two buttons (`- [x] …` and `- [ ] …`)"))
    elif sum(option.correct for option in step.options) != 1:
        errors.append(SourceError(path, line, "a `tap` step needs exactly one right button, marked `- [x]`"))
    for key in ("label", "answer"):
        if key in step.lines:
            errors.append(SourceError(path, step.lines[key], f"`{key}:` belongs to `input` steps, not `tap`"))
    return errors


def _input_errors(path: Path, step: Step) -> list[SourceError]:
    errors = []
    if step.options:
        errors.append(SourceError(path, step.lines["options"], "an `input` step has no buttons; use `answer:`"))
    if not step.answers and "answer" not in step.lines:
        errors.append(SourceError(path, step.line, f"the `input` step “{step.title}” needs `answer:`"))
    if not step.label and "label" not in step.lines:
        errors.append(SourceError(path, step.line, f"the `input` step “{step.title}” needs `label:` (the field's name)"))
    return errors


def simulation_problems(lesson, text: str) -> tuple[SimulationSource, list[str]]:
    """Check a simulation edited in the browser: the parsed file and its problems as "line N: …"."""
    found: list[SourceError] = []
    try:
        parsed = parse_simulation(Path(f"{lesson.file_stem or 'simulation'}{SIMULATION_SUFFIX}"), text=text, errors=found)
    except SourceError as error:  # front matter that is not YAML stops the parse
        parsed, found = None, [error]
    return parsed, [f"{error.where.rsplit('/', 1)[-1]}: {error.message}" for error in found]
