"""Fixtures for the catalogue tests: editable copies of the fixture course and English pages."""

import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURE_COURSES


@pytest.fixture()
def english(client):
    """Show pages in English so messages are stable whatever catalogues are compiled."""
    client.post("/language", data={"lang": "en"})


@pytest.fixture()
def course_copy(tmp_path):
    """Copy the mini-course to `tmp_path/<parent>/<slug>`, optionally changing course.md keys.

    `meta` replaces (or adds) front-matter lines of course.md, e.g. {"code": "K-2"}.
    """

    def copy(slug="mini-course", *, parent="courses", **meta) -> Path:
        target = tmp_path / parent / slug
        shutil.copytree(FIXTURE_COURSES / "mini-course", target)
        if meta:
            set_front_matter(target / "course.md", **meta)
        return target

    return copy


def set_front_matter(path: Path, **values) -> None:
    """Replace `key: …` lines in the front matter (append the ones that are missing)."""
    text = path.read_text(encoding="utf-8")
    head, sep, body = text[4:].partition("\n---\n")
    lines = head.split("\n")
    for key, value in values.items():
        line = f"{key}: {value}"
        index = next((i for i, item in enumerate(lines) if re.match(rf"{key}\s*:", item)), None)
        if index is None:
            lines.append(line)
        else:
            lines[index] = line
    path.write_text("---\n" + "\n".join(lines) + sep + body, encoding="utf-8")
