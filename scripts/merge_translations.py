"""Rebuild the Vietnamese catalogue after merging branches that each added strings.

    .venv/bin/python scripts/merge_translations.py BRANCH [BRANCH …]

Extracts the current messages, updates lms/translations/vi from them, then fills every
empty or fuzzy entry from the translations found in the given branches' catalogues.
Prints what is still missing.
"""

import subprocess
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "lms/translations/vi/LC_MESSAGES/messages.po"
PO_PATH = "lms/translations/vi/LC_MESSAGES/messages.po"


def _key(message):
    return message.id[0] if isinstance(message.id, tuple) else message.id


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else [message.string]
    return bool(message.id) and not message.fuzzy and all(strings)


def _translations(data: bytes) -> dict:
    return {_key(message): message.string for message in read_po(BytesIO(data)) if _translated(message)}


def main(branches):
    known = {}
    for ref in branches:
        data = subprocess.run(["git", "show", f"{ref}:{PO_PATH}"], cwd=ROOT, capture_output=True).stdout
        if data:
            known.update(_translations(data))
    if PO.exists():
        text = PO.read_bytes()
        if b"<<<<<<<" not in text:
            known.update(_translations(text))
    bin_dir = Path(sys.executable).parent
    subprocess.run([bin_dir / "pybabel", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", "lms/translations/messages.pot", "."], cwd=ROOT, check=True, capture_output=True)
    if b"<<<<<<<" in PO.read_bytes():
        with open(PO, "wb") as committed:
            subprocess.run(["git", "show", f"HEAD:{PO_PATH}"], cwd=ROOT, stdout=committed, check=True)
    subprocess.run([bin_dir / "pybabel", "update", "-i", "lms/translations/messages.pot", "-d", "lms/translations",
                    "--no-fuzzy-matching"], cwd=ROOT, check=True, capture_output=True)
    with open(PO, encoding="utf-8") as po:
        catalog = read_po(po)
    missing = []
    for message in catalog:
        if not message.id:
            continue
        have = _translated(message)
        if not have and _key(message) in known:
            message.string = known[_key(message)]
            message.flags.discard("fuzzy")
        elif not have:
            missing.append(_key(message))
    catalog.obsolete.clear()
    with open(PO, "wb") as handle:
        write_po(handle, catalog, width=76)
    for item in missing:
        print("missing:", item)
    print(f"{len(missing)} missing")


if __name__ == "__main__":
    main(sys.argv[1:])
