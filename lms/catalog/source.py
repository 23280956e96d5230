"""Reading a course folder (COURSE_FORMAT.md) into plain data, validating as we go.

Nothing here touches the database: the importer applies a `CourseSource`, the checker
only reports the errors.
"""

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.core.frontmatter import SourceError, parse, read_text
from lms.quizzes.gift import parse_gift_file
from lms.quizzes.markdown_format import QuizSource, parse_quiz

COURSE_KEYS = {"title", "code", "program", "audience", "language", "hours", "passing_score",
               "certificate", "valid_months", "tags"}
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


@dataclass
class ModuleSource:
    key: str
    position: int
    title: str
    intro: str
    path: Path
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


def _check_keys(path, meta: dict, allowed: set[str]) -> None:
    for key in meta:
        if key not in allowed:
            guess = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f" — did you mean `{guess[0]}`?" if guess else ""
            raise SourceError(path, _key_line(path, key), f"unknown front-matter key `{key}`{hint}")


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


def read_course(folder: Path) -> CourseSource:
    folder = Path(folder)
    slug = folder.name
    if not _SLUG.match(slug):
        raise SourceError(folder, None, "a course folder name must use only a-z, 0-9 and '-' (it is the course's slug)")
    course_file = folder / "course.md"
    if not course_file.is_file():
        raise SourceError(folder, None, "missing course.md")
    document = parse(course_file)
    meta = document.meta
    _check_keys(course_file, meta, COURSE_KEYS)
    if not str(meta.get("title") or "").strip():
        raise SourceError(course_file, 2, "`title` is required")
    audience = _list(course_file, meta, "audience")
    bad = [a for a in audience if a not in AUDIENCES]
    if bad:
        raise SourceError(course_file, _key_line(course_file, "audience"),
                          f"unknown audience {', '.join(bad)}; use {', '.join(sorted(AUDIENCES))}")
    clean = {
        "title": str(meta["title"]).strip(),
        "code": str(meta.get("code") or slug.upper())[:40],
        "program": str(meta["program"]) if meta.get("program") else None,
        "audience": audience,
        "language": str(meta.get("language") or "vi"),
        "hours": _number(course_file, meta, "hours", default=0, integer=False, high=10_000),
        "passing_score": _number(course_file, meta, "passing_score", default=70, high=100),
        "certificate": bool(meta.get("certificate", True)),
        "valid_months": _number(course_file, meta, "valid_months", default=None, low=1, high=600),
        "tags": _list(course_file, meta, "tags"),
    }
    modules = _read_modules(folder)
    lesson_keys: dict[str, Path] = {}
    for module in modules:
        for lesson in module.lessons:
            if lesson.key in lesson_keys:
                raise SourceError(lesson.path, 1, f"lesson id `{lesson.key}` is also used by {lesson_keys[lesson.key]}")
            lesson_keys[lesson.key] = lesson.path
    if not lesson_keys:
        raise SourceError(folder, None, "the course has no lessons")
    return CourseSource(slug, folder, clean, document.body.strip(), modules, content_hash(folder))


def _read_modules(folder: Path) -> list[ModuleSource]:
    modules = []
    folders = sorted((p for p in folder.iterdir() if p.is_dir() and p.name != "assets" and not _ignored(Path(p.name))),
                     key=lambda p: (strip_prefix(p.name)[0] is None, strip_prefix(p.name)[0] or 0, p.name))
    for position, module_dir in enumerate(folders, start=1):
        _, default_key = strip_prefix(module_dir.name)
        meta, intro = {}, ""
        module_file = module_dir / "module.md"
        if module_file.is_file():
            document = parse(module_file)
            _check_keys(module_file, document.meta, MODULE_KEYS)
            meta, intro = document.meta, document.body.strip()
        key = str(meta.get("id") or default_key)
        title = str(meta.get("title") or default_key.replace("-", " ").capitalize())
        module = ModuleSource(key, position, title, intro, module_dir)
        files = sorted((p for p in module_dir.iterdir() if p.is_file() and p.suffix == ".md" and not _ignored(Path(p.name))),
                       key=lambda p: (strip_prefix(p.name)[0] is None, strip_prefix(p.name)[0] or 0, p.name))
        lesson_position = 0
        for file in files:
            if file.name == "module.md":
                continue
            if file.name == "quiz.md" or file.name.endswith(".quiz.md"):
                module.quizzes.append(parse_quiz(file))
                continue
            lesson_position += 1
            module.lessons.append(_read_lesson(file, key, lesson_position))
        for gift_file in sorted(p for p in module_dir.iterdir() if p.is_file() and p.suffix == ".gift"
                                and not _ignored(Path(p.name))):
            module.quizzes.append(parse_gift_file(gift_file))
        modules.append(module)
    return modules


def _read_lesson(file: Path, module_key: str, position: int) -> LessonSource:
    document = parse(file)
    _check_keys(file, document.meta, LESSON_KEYS)
    title = str(document.meta.get("title") or "").strip()
    if not title:
        raise SourceError(file, 1, "a lesson needs a `title` in its front matter")
    _, stem = strip_prefix(file.stem)
    key = str(document.meta.get("id") or f"{module_key}/{stem}")
    minutes = _number(file, document.meta, "minutes", default=None, high=1000)
    return LessonSource(key, position, title, minutes, document.body.strip(), file)


def find_course_folders(path: Path) -> list[Path]:
    """A path is a course folder (has course.md) or a folder of course folders."""
    path = Path(path)
    if (path / "course.md").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and not _ignored(Path(p.name)) and (p / "course.md").is_file())
