"""Relative links and images of course files that point at no file of the course (the checker
and the importer both refuse them, with the line)."""

import difflib
import html
import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from lms.core.frontmatter import SourceError


def _strip_prefix(name: str) -> str:
    """A file or folder name without its numeric order prefix ("02-dang-nhap" → "dang-nhap")."""
    return re.sub(r"^\d+[-_. ]+", "", name)


# Markdown links and images `[t](url "title")`, reference definitions `[t]: url` and raw HTML src/href.
_MD_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_REF_DEF = re.compile(r"^\s{0,3}\[(?!\^)[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)")
_HTML_ATTR = re.compile(r"\b(?:src|href|poster)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_FENCE = re.compile(r"^\s*(```|~~~)")


def check_links(course_dir: Path, file: Path, body: str, first_line: int) -> list[SourceError]:
    """Relative links and images that point at no file of the course, each with its line."""
    problems = []
    in_fence = False
    for offset, line in enumerate(body.split("\n")):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        targets = [m.group(1) for m in _MD_LINK.finditer(line)] + [html.unescape(m.group(1)) for m in _HTML_ATTR.finditer(line)]
        reference = _REF_DEF.match(line)
        if reference:
            targets.append(reference.group(1))
        for target in targets:
            problem = _link_problem(course_dir, file, target)
            if problem:
                problems.append(SourceError(file, first_line + offset, problem))
    return problems


def _same_lesson_file(course_dir: Path, resolved: str) -> bool:
    """A link to `NN-module/NN-lesson.md` matches whatever numbers the files have now."""
    parts = resolved.split("/")
    if len(parts) != 2 or not parts[1].endswith(".md"):
        return False
    module_stem, lesson_stem = _strip_prefix(parts[0]), _strip_prefix(parts[1][:-3])
    return any(_strip_prefix(d.name) == module_stem and _strip_prefix(f.stem) == lesson_stem
               for d in course_dir.iterdir() if d.is_dir() for f in d.glob("*.md"))


def _link_problem(course_dir: Path, file: Path, target: str) -> str | None:
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or target.startswith(("/", "#")) or not parsed.path:
        return None
    relative_dir = file.parent.relative_to(course_dir).as_posix()
    resolved = posixpath.normpath(posixpath.join(relative_dir, unquote(parsed.path)))
    if resolved.startswith("../") or resolved == "..":
        return f"the link `{target}` points outside the course folder"
    if not (course_dir / resolved).exists() and not _same_lesson_file(course_dir, resolved):
        names = [p.relative_to(course_dir).as_posix() for p in course_dir.rglob("*") if p.is_file()]
        guess = difflib.get_close_matches(resolved, names, n=1)
        hint = f" — did you mean `{posixpath.relpath(guess[0], relative_dir)}`?" if guess else ""
        return f"broken link `{target}`: no file {resolved} in the course{hint}"
    return None
