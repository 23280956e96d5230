"""Copies of a library's private logic, pinned to the releases they were checked against: a test fails on an
upgrade (of requirements.lock or of what is installed) and says what to re-check."""

import pathlib
import re
from importlib.metadata import version

LOCK = pathlib.Path(__file__).resolve().parent.parent / "requirements.lock"


def locked_version(package: str) -> str | None:
    found = re.search(rf"^{re.escape(package)}==([^\s\\]+)", LOCK.read_text(encoding="utf-8"), re.MULTILINE | re.I)
    return found[1] if found else None


def assert_checked_against(checked: dict[str, str], where: str, recheck: str) -> None:
    """`checked`: package → the release `where` was checked against (its CHECKED_AGAINST)."""
    for package, checked_version in checked.items():
        installed, locked = version(package), locked_version(package)
        assert installed == locked == checked_version, (
            f"{package}: installed {installed}, requirements.lock {locked}, but {where} was checked against "
            f"{checked_version}. Re-check {recheck} against the new release, then update CHECKED_AGAINST in {where}.")
