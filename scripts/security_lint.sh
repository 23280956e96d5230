#!/usr/bin/env bash
# `make lint`'s security part (docs/security.md, part B).
# bandit reads the code only, so it always runs and fails the build on medium or high findings.
# pip-audit needs the vulnerability database (PyPI / OSV): it runs when that is reachable and
# fails on a known vulnerability; without network it says so and does not fail the build (pip-audit
# has no offline database: both its services, PyPI's JSON API and OSV, are web services).
# It audits the lock (every package installed, direct or not, at its exact version) without building a
# virtualenv: --disable-pip reads the hash-pinned lines as they are.
set -uo pipefail
BIN="${BIN:-.venv/bin}"
"$BIN/bandit" -q -r lms -ll || exit 1
if "$BIN/python" - <<'PY'
import re, sys, urllib.request
# What pip-audit asks: the pinned release's JSON with its "vulnerabilities" (a package mirror
# without them, or an open port that refuses, does not count as reachable).
version = re.search(r"^flask==(\S+)", open("requirements.txt").read(), re.M | re.I).group(1)
try:
    with urllib.request.urlopen(f"https://pypi.org/pypi/flask/{version}/json", timeout=5) as answer:
        sys.exit(0 if b'"vulnerabilities"' in answer.read(5_000_000) else 1)
except Exception:
    sys.exit(1)
PY
then
    "$BIN/pip-audit" --progress-spinner off --strict --disable-pip --require-hashes -r requirements-dev.lock || exit 1
else
    echo "pip-audit skipped: pypi.org (the vulnerability database) is not reachable from here"
fi
