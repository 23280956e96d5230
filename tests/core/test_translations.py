"""Every user-facing string has a Vietnamese translation (Vietnamese is the default language)."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    method_map = [("lms/**.py", "python"), ("templates/**.html", "jinja2")]
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords=KEYWORDS, options_map={"templates/**.html": {}}):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_string_in_the_code_has_a_vietnamese_translation():
    with open(ROOT / "lms/translations/vi/LC_MESSAGES/messages.po", encoding="utf-8") as handle:
        catalog = read_po(handle)
    translated = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog
                  if m.id and not m.fuzzy and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    missing = sorted(_source_messages() - translated)
    assert not missing, f"untranslated (run pybabel extract/update, then translate): {missing}"
