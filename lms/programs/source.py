"""Reading `programs/<slug>.md` files: YAML front matter, the body is a description for people."""

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lms.accounts.models import AUDIENCES
from lms.catalog.source import _check_keys, _key_line, _list, _number
from lms.core.frontmatter import SourceError, parse

PROGRAM_KEYS = {"title", "hours", "valid_months", "certificate", "required", "optional", "optional_required", "audience",
                "requires"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass
class ProgramSource:
    slug: str
    path: Path
    title: str
    hours: float
    valid_months: int | None
    certificate: bool
    required: list[str]
    optional: list[str]
    optional_required: int
    content_hash: str
    audience: list[str] = field(default_factory=list)
    # Course or program slugs to complete before enrolling in this program.
    requires: list[str] = field(default_factory=list)


def read_program(path: Path) -> ProgramSource:
    path = Path(path)
    slug = path.stem
    if not _SLUG.match(slug):
        raise SourceError(path, None, "a program file name must use only a-z, 0-9 and '-' (it is the program's slug)")
    meta = parse(path).meta
    _check_keys(path, meta, PROGRAM_KEYS)
    title = str(meta.get("title") or "").strip()
    if not title:
        raise SourceError(path, 2, "`title` is required")
    required, optional = _list(path, meta, "required"), _list(path, meta, "optional")
    both = set(required) & set(optional)
    if both:
        raise SourceError(path, _key_line(path, "optional"), f"{', '.join(sorted(both))} is both required and optional")
    if not required and not optional:
        raise SourceError(path, 2, "a program needs courses: list them under `required` and/or `optional`")
    audience = _list(path, meta, "audience")
    bad = [a for a in audience if a not in AUDIENCES]
    if bad:
        raise SourceError(path, _key_line(path, "audience"),
                          f"unknown audience {', '.join(bad)}; use {', '.join(sorted(AUDIENCES))}")
    requires = _list(path, meta, "requires")
    if slug in requires or set(requires) & set(required + optional):
        raise SourceError(path, _key_line(path, "requires"),
                          "`requires` lists what must be completed before the program, not the program or its own courses")
    optional_required = _number(path, meta, "optional_required", default=0, high=len(optional))
    return ProgramSource(
        slug=slug, path=path, title=title,
        hours=_number(path, meta, "hours", default=0, integer=False, high=10_000),
        valid_months=_number(path, meta, "valid_months", default=None, low=1, high=600),
        certificate=bool(meta.get("certificate", True)), required=required, optional=optional,
        optional_required=optional_required, audience=audience, requires=requires,
        content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def find_program_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.md") if not p.name.startswith(("_", ".")) and p.name != "README.md")


def in_dependency_order(sources: list[ProgramSource]) -> list[ProgramSource]:
    """Programs required by other programs of the same folder first, so one import run suffices."""
    by_slug = {s.slug: s for s in sources}
    ordered, seen = [], set()

    def visit(source, path=()):
        if source.slug in seen or source.slug in path:  # a cycle is reported by the import as unknown
            return
        for slug in source.requires:
            if slug in by_slug:
                visit(by_slug[slug], path + (source.slug,))
        seen.add(source.slug)
        ordered.append(source)

    for source in sources:
        visit(source)
    return ordered
