"""Reading `programs/<slug>.md` files: YAML front matter, the body is a description for people."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from lms.catalog.source import _check_keys, _key_line, _list, _number
from lms.core.frontmatter import SourceError, parse

PROGRAM_KEYS = {"title", "hours", "valid_months", "certificate", "required", "optional", "optional_required"}
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
    optional_required = _number(path, meta, "optional_required", default=0, high=len(optional))
    return ProgramSource(
        slug=slug, path=path, title=title,
        hours=_number(path, meta, "hours", default=0, integer=False, high=10_000),
        valid_months=_number(path, meta, "valid_months", default=None, low=1, high=600),
        certificate=bool(meta.get("certificate", True)), required=required, optional=optional,
        optional_required=optional_required, content_hash=hashlib.sha256(path.read_bytes()).hexdigest(),
    )


def find_program_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.md") if not p.name.startswith(("_", ".")) and p.name != "README.md")
