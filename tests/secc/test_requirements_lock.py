"""Issue 12 ("requirements with hashes"): `make install`/`install-dev` install from the hash-pinned lock
files (pip's --require-hashes), while requirements*.txt stay the short, human-read list of direct pins.
This test fails when the two disagree: a pin changed in one and not the other, a direct dependency added
or dropped without re-running pip-compile, or a lock line without a hash. Fix with the command in
docs/security.md ("Requirements with hashes")."""

import re

import pytest

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line or line.startswith("-r"):
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        pins[_name(match.group(1))] = match.group(2)
    return pins


def _lock(path) -> tuple[dict[str, str], dict[str, list[str]], dict[str, set[str]]]:
    """(versions, hashes, what each entry is there for) of a pip-compile --generate-hashes file."""
    versions, hashes, via, current = {}, {}, {}, None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if match := PIN.match(line):
            current = _name(match.group(1))
            versions[current], hashes[current], via[current] = match.group(2), [], set()
        elif stripped.startswith("--hash=sha256:") and current:
            hashes[current].append(stripped.split(":", 1)[1].rstrip(" \\"))
        elif stripped.startswith("#") and current and "-r requirements" in stripped:
            via[current].add(stripped.split("-r ", 1)[1].strip())
    return versions, hashes, via


@pytest.mark.parametrize("source, lock", [("requirements.txt", "requirements.lock"),
                                          ("requirements-dev.txt", "requirements-dev.lock")])
def test_the_lock_matches_the_pins_and_every_line_has_a_hash(source, lock):
    wanted = _pins(ROOT / source)
    if source == "requirements-dev.txt":
        wanted |= _pins(ROOT / "requirements.txt")
    versions, hashes, via = _lock(ROOT / lock)
    differ = {name: (version, versions.get(name)) for name, version in wanted.items() if versions.get(name) != version}
    assert not differ, f"{source} and {lock} disagree (pinned, locked): {differ}"
    direct = {name for name, files in via.items() if files}
    assert direct <= set(wanted), f"{lock} still has direct dependencies {direct - set(wanted)} that {source} dropped"
    unhashed = [name for name, found in hashes.items() if not found or not all(re.fullmatch(r"[0-9a-f]{64}", h)
                                                                                for h in found)]
    assert not unhashed, f"{lock}: no sha256 hash for {unhashed}"


def test_the_dev_lock_agrees_with_the_runtime_lock():
    runtime, _, _ = _lock(ROOT / "requirements.lock")
    dev, _, _ = _lock(ROOT / "requirements-dev.lock")
    differ = {name: (version, dev.get(name)) for name, version in runtime.items() if dev.get(name) != version}
    assert not differ, f"requirements.lock and requirements-dev.lock resolve differently: {differ}"


def test_make_installs_from_the_locks_with_hashes_only():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements.lock" in makefile
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert not re.search(r"pip install[^\n]*-r requirements(-dev)?\.txt", makefile)
