"""Reading a course folder (COURSE_FORMAT.md) into plain data, validating as we go.

Nothing here touches the database: the importer applies a `CourseSource`, the checker
only reports the errors.
"""

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.catalog.links import check_links
from lms.core.frontmatter import SourceError, parse, read_text
from lms.practice.format import SimulationSource, is_simulation_file, parse_simulation, simulation_stem
from lms.quizzes.gift import parse_gift_file
from lms.quizzes.markdown_format import QuizSource, parse_quiz

COURSE_KEYS = {"title", "code", "program", "audience", "language", "hours", "passing_score",
               "certificate", "valid_months", "tags", "min_score", "min_study_minutes"}
LESSON_KEYS = {"title", "minutes", "id"}
MODULE_KEYS = {"title", "id"}
AUDIENCES = {"citizen", "official", "cio"}
_PREFIX = re.compile(r"^(\d+)[-_. ]+")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class LessonSource:
    key: str
    position: int
    title: str
    minutes: int | None
    body: str
    path: Path
    file_stem: str = ""
    # "page" (Markdown) or "simulation" (`*.sim.md`, lms/practice/format.py; kept verbatim).
    kind: str = "page"
    simulation: SimulationSource | None = None


@dataclass
class ModuleSource:
    key: str
    position: int
    title: str
    intro: str
    path: Path
    folder_stem: str = ""
    lessons: list[LessonSource] = field(default_factory=list)
    quizzes: list[QuizSource] = field(default_factory=list)


@dataclass
class CourseSource:
    slug: str
    path: Path
    meta: dict
    description: str
    modules: list[ModuleSource]
    content_hash: str
    raw_meta: dict = field(default_factory=dict)
    # `banks/*.gift`: question banks of the course (quiz key `bank/<file stem>`), not counted for completion.
    banks: list[QuizSource] = field(default_factory=list)

    def asset_files(self) -> list[Path]:
        assets = self.path / "assets"
        if not assets.is_dir():
            return []
        return sorted(p for p in assets.rglob("*") if p.is_file() and not _ignored(p.relative_to(assets)))


def _ignored(relative: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.parts)


def strip_prefix(name: str) -> tuple[int | None, str]:
    match = _PREFIX.match(name)
    return (int(match.group(1)), name[match.end():]) if match else (None, name)


def _key_line(path, key) -> int:
    """The line of `key:` in the file's front matter, so messages point at it (2 when not found)."""
    lines = read_text(Path(path)).split("\n")
    pattern = re.compile(rf"^\s*['\"]?{re.escape(str(key))}['\"]?\s*:")
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() in ("---", "..."):
            break
        if pattern.match(line):
            return number
    return 2


def _key_errors(path, meta: dict, allowed: set[str]) -> list[SourceError]:
    """Every unknown front-matter key, each with its line and a guess."""
    errors = []
    for key in meta:
        if key not in allowed:
            guess = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f" — did you mean `{guess[0]}`?" if guess else ""
            errors.append(SourceError(path, _key_line(path, key), f"unknown front-matter key `{key}`{hint}"))
    return errors


def _check_keys(path, meta: dict, allowed: set[str]) -> None:
    errors = _key_errors(path, meta, allowed)
    if errors:
        raise errors[0]


def _number(path, meta, key, *, default=None, integer=True, low=0, high=100_000):
    value = meta.get(key, default)
    if value is None:
        return default
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        raise SourceError(path, _key_line(path, key), f"`{key}` must be a number between {low} and {high}")
    return value


def _list(path, meta, key) -> list[str]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise SourceError(path, _key_line(path, key), f"`{key}` must be a list, e.g. [a, b]")
    return [str(v).strip() for v in value]


def content_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in folder.rglob("*") if p.is_file() and not _ignored(p.relative_to(folder))):
        digest.update(str(file.relative_to(folder)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def read_course(folder: Path, errors: list[SourceError] | None = None) -> CourseSource | None:
    """Read and validate a course folder.

    Without `errors`, the first problem raises SourceError (the importer refuses the course).
    With a list, every problem found is appended and reading goes on where it can (the checker);
    the result is then None when anything was wrong.
    """
    collected: list[SourceError] = []
    try:
        source = _read_course(Path(folder), collected)
    except SourceError as error:
        collected.insert(0, error)  # the first problem found (the others were collected after it)
        source = None
    if errors is None:
        if collected:
            raise collected[0]
        return source
    errors.extend(collected)
    return None if collected else source


def _read_course(folder: Path, errors: list[SourceError]) -> CourseSource:
    slug = folder.name
    if not _SLUG.match(slug):
        raise SourceError(folder, None, "a course folder name must use only a-z, 0-9 and '-' (it is the course's slug)")
    course_file = folder / "course.md"
    if not course_file.is_file():
        raise SourceError(folder, None, "missing course.md")
    document = parse(course_file)
    meta = document.meta
    clean = _course_meta(course_file, meta, slug, errors)
    errors.extend(check_links(folder, course_file, document.body, document.body_line))
    modules = _read_modules(folder, errors)
    banks = _read_banks(folder, errors)
    module_keys: dict[str, Path] = {}
    lesson_keys: dict[str, Path] = {}
    for module in modules:
        if module.key in module_keys:
            errors.append(SourceError(module.path, None, f"module id `{module.key}` is also used by {module_keys[module.key]}"))
        module_keys.setdefault(module.key, module.path)
        for lesson in module.lessons:
            if lesson.key in lesson_keys:
                line = 1 if lesson.key == f"{module.key}/{lesson.file_stem}" else _key_line(lesson.path, "id")
                other = lesson_keys[lesson.key]
                errors.append(SourceError(lesson.path, line, f"lesson id `{lesson.key}` is also used by {other}"))
            lesson_keys.setdefault(lesson.key, lesson.path)
    if not lesson_keys and not errors:
        raise SourceError(folder, None, "the course has no lessons")
    if errors:
        raise errors.pop(0)
    return CourseSource(slug, folder, clean, document.body.strip(), modules, content_hash(folder), raw_meta=dict(meta),
                        banks=banks)


def _course_meta(course_file: Path, meta: dict, slug: str, errors: list[SourceError]) -> dict:
    """The course's settings from its front matter; each problem is appended to `errors` (in line
    order) and a harmless stand-in is used, so the rest of the course is still checked."""
    found = _key_errors(course_file, meta, COURSE_KEYS)
    if not str(meta.get("title") or "").strip():
        found.append(SourceError(course_file, 2, "`title` is required"))

    def checked(read, *args, default=None, **kwargs):
        try:
            return read(course_file, meta, *args, **kwargs)
        except SourceError as error:
            found.append(error)
            return default

    audience = checked(_list, "audience", default=[])
    bad = [a for a in audience if a not in AUDIENCES]
    if bad:
        guesses = [g for b in bad for g in difflib.get_close_matches(b, sorted(AUDIENCES), n=1)]
        hint = f" — did you mean `{', '.join(guesses)}`?" if guesses else ""
        found.append(SourceError(course_file, _key_line(course_file, "audience"),
                                 f"unknown audience {', '.join(bad)}; use {', '.join(sorted(AUDIENCES))}{hint}"))
    clean = {
        "title": str(meta.get("title") or "").strip() or slug,
        "code": str(meta.get("code") or slug.upper())[:40],
        "program": str(meta["program"]) if meta.get("program") else None,
        "audience": [a for a in audience if a in AUDIENCES],
        "language": str(meta.get("language") or "vi"),
        "hours": checked(_number, "hours", default=0, integer=False, high=10_000),
        "passing_score": checked(_number, "passing_score", default=70, high=100),
        "certificate": bool(meta.get("certificate", True)),
        "valid_months": checked(_number, "valid_months", default=None, low=1, high=600),
        "tags": checked(_list, "tags", default=[]),
        "min_score": checked(_number, "min_score", default=None, high=100),
        "min_study_minutes": checked(_number, "min_study_minutes", default=None, low=1, high=100_000),
    }
    errors.extend(sorted(found, key=lambda error: error.line or 0))
    return clean


def _sorted_by_prefix(paths):
    return sorted(paths, key=lambda p: (strip_prefix(p.name)[0] is None, strip_prefix(p.name)[0] or 0, p.name))


RESERVED_FOLDERS = ("assets", "banks")


def _read_banks(folder: Path, errors: list[SourceError]) -> list[QuizSource]:
    banks_dir = folder / "banks"
    if not banks_dir.is_dir():
        return []
    banks = []
    for file in sorted(p for p in banks_dir.iterdir() if p.is_file() and not _ignored(Path(p.name))):
        if file.suffix != ".gift":
            errors.append(SourceError(file, None, "the banks folder holds GIFT files (*.gift) only"))
            continue
        if not _SLUG.match(file.stem):
            errors.append(SourceError(file, None, "a bank's file name must use only a-z, 0-9 and '-' (it is the bank's key)"))
            continue
        try:
            banks.append(parse_gift_file(file))
        except SourceError as error:
            errors.append(error)
    return banks


def _read_modules(folder: Path, errors: list[SourceError]) -> list[ModuleSource]:
    modules = []
    folders = _sorted_by_prefix(p for p in folder.iterdir()
                                if p.is_dir() and p.name not in RESERVED_FOLDERS and not _ignored(Path(p.name)))
    for position, module_dir in enumerate(folders, start=1):
        _, default_key = strip_prefix(module_dir.name)
        meta, intro = {}, ""
        module_file = module_dir / "module.md"
        if module_file.is_file():
            try:
                document = parse(module_file)
                _check_keys(module_file, document.meta, MODULE_KEYS)
                meta, intro = document.meta, document.body.strip()
                errors.extend(check_links(folder, module_file, document.body, document.body_line))
            except SourceError as error:
                errors.append(error)
        key = str(meta.get("id") or default_key)
        title = str(meta.get("title") or default_title(default_key))
        module = ModuleSource(key, position, title, intro, module_dir, folder_stem=default_key)
        files = _sorted_by_prefix(p for p in module_dir.iterdir()
                                  if p.is_file() and p.suffix == ".md" and not _ignored(Path(p.name)))
        lesson_position = 0
        for file in files:
            if file.name == "module.md":
                continue
            try:
                if file.name == "quiz.md" or file.name.endswith(".quiz.md"):
                    module.quizzes.append(parse_quiz(file, errors))
                    errors.extend(check_links(folder, file, read_text(file), 1))
                    continue
                lesson_position += 1
                read = _read_simulation if is_simulation_file(file) else _read_lesson
                module.lessons.append(read(folder, file, key, lesson_position, errors))
            except SourceError as error:
                errors.append(error)
        for gift_file in sorted(p for p in module_dir.iterdir() if p.is_file() and p.suffix == ".gift"
                                and not _ignored(Path(p.name))):
            try:
                module.quizzes.append(parse_gift_file(gift_file))
            except SourceError as error:
                errors.append(error)
        modules.append(module)
    return modules


def default_title(stem: str) -> str:
    return stem.replace("-", " ").capitalize()


def _read_lesson(folder: Path, file: Path, module_key: str, position: int, errors: list[SourceError]) -> LessonSource:
    document = parse(file)
    errors.extend(_key_errors(file, document.meta, LESSON_KEYS))
    title = str(document.meta.get("title") or "").strip()
    if not title:
        raise SourceError(file, 1, "a lesson needs a `title` in its front matter")
    _, stem = strip_prefix(file.stem)
    key = str(document.meta.get("id") or f"{module_key}/{stem}")
    minutes = _number(file, document.meta, "minutes", default=None, high=1000)
    errors.extend(check_links(folder, file, document.body, document.body_line))
    return LessonSource(key, position, title, minutes, document.body.strip(), file, file_stem=stem)


def _read_simulation(folder: Path, file: Path, module_key: str, position: int,
                     errors: list[SourceError]) -> LessonSource:
    found: list[SourceError] = []
    simulation = parse_simulation(file, errors=found)
    errors.extend(found)  # a course with any of these is refused; the lesson below is only for the checker
    _, stem = strip_prefix(simulation_stem(file))
    key = simulation.explicit_id or f"{module_key}/{stem}"
    errors.extend(check_links(folder, file, simulation.text, 1))
    # The body of a simulation lesson is its whole file (so history and revert keep the steps too).
    return LessonSource(key, position, simulation.title or stem, simulation.minutes, simulation.text, file, file_stem=stem,
                        kind="simulation", simulation=simulation)


def find_course_folders(path: Path) -> list[Path]:
    """A path is a course folder (has course.md) or a folder of course folders."""
    path = Path(path)
    if (path / "course.md").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and not _ignored(Path(p.name)) and (p / "course.md").is_file())


def code_taken_error(folder: Path, code: str, other_slug: str, other_title: str) -> SourceError:
    """The course code is already used by another course (in the database)."""
    course_file = Path(folder) / "course.md"
    return SourceError(course_file, _key_line(course_file, "code"),
                       f"the course code `{code}` is already used by the course `{other_slug}` ({other_title}); "
                       "give this course another `code`")


def check_folders(path: Path, taken_by=None) -> list[tuple[Path, list[SourceError]]]:
    """Every error of every course under `path`, including clashes between courses (codes, slugs).

    `taken_by(slug, code)` — given when a database is at hand — names the other course that
    already uses a code as (slug, title), or None; this module itself never touches the database."""
    results = []
    codes: dict[str, Path] = {}
    slugs: dict[str, Path] = {}
    for folder in find_course_folders(path):
        errors: list[SourceError] = []
        source = read_course(folder, errors)
        folded = folder.name.lower()
        if folded in slugs:
            errors.append(SourceError(folder, None, f"duplicate course slug `{folder.name}` (also {slugs[folded]})"))
        slugs.setdefault(folded, folder)
        code = source.meta["code"] if source is not None else _raw_code(folder)
        if code:
            if code in codes:
                errors.append(SourceError(folder / "course.md", _key_line(folder / "course.md", "code"),
                                          f"duplicate course code `{code}` (also used by {codes[code]})"))
            codes.setdefault(code, folder)
            other = taken_by(folder.name, code) if taken_by else None
            if other is not None:
                errors.append(code_taken_error(folder, code, *other))
        results.append((folder, errors))
    return results


def _raw_code(folder: Path) -> str | None:
    try:
        meta = parse(folder / "course.md").meta
    except (SourceError, OSError):
        return None
    return str(meta.get("code") or folder.name.upper())[:40]
