"""GIFT and Aiken parse results compared with Moodle's own parser (the acceptance kit), when it is present."""

import json

import pytest

from lms.quizzes import aiken, gift
from tests.conftest import ACCEPTANCE

KIT = ACCEPTANCE
pytestmark = pytest.mark.skipif(not (KIT / "gift").is_dir(), reason="acceptance kit not present")


def cases(folder, pattern):
    base = KIT / folder
    return sorted(p.name for p in base.glob(pattern)) if base.is_dir() else []


def comparable(question: dict) -> dict:
    """Moodle's record without the keys we do not model (formats of empty parts are kept)."""
    out = {k: v for k, v in question.items() if k not in ("line",)}
    if not out.get("generalfeedback"):
        out.pop("generalfeedbackformat", None)
    if not out.get("idnumber"):
        out.pop("idnumber", None)
    if not out.get("tags"):
        out.pop("tags", None)
    for answer in out.get("answers", []):
        answer.pop("correct", None)
        for key in ("answer", "tolerance", "fraction"):
            if isinstance(answer.get(key), (int, float)) and not isinstance(answer.get(key), bool):
                answer[key] = round(float(answer[key]), 9)
    return out


@pytest.mark.parametrize("name", cases("gift", "*.expected.json"))
def test_gift_matches_moodle(name):
    expected = json.loads((KIT / "gift" / name).read_text(encoding="utf-8"))
    raw = (KIT / "gift" / expected["file"]).read_bytes()
    records, errors = gift.read_gift(gift.decode(raw, expected["file"]))
    assert len(errors) == expected["importerrors"]
    assert len(records) == expected["count"]
    for mine, theirs in zip(records, expected["questions"], strict=True):
        assert comparable(mine) == comparable(theirs)


def test_gift_that_is_not_utf8_is_refused():
    raw = (KIT / "gift" / "moodle_fixture_questions_encoding_windows-1252.gift.txt").read_bytes()
    with pytest.raises(gift.GiftError, match="not UTF-8"):
        gift.decode(raw, "x.gift")


@pytest.mark.parametrize("name", cases("aiken", "*.expected.json"))
def test_aiken_matches_moodle(name):
    expected = json.loads((KIT / "aiken" / name).read_text(encoding="utf-8"))
    raw = (KIT / "aiken" / expected["file"]).read_bytes()
    records, errors = aiken.read_aiken(gift.decode(raw, expected["file"]))
    assert len(errors) == expected["importerrors"]
    for error in errors:
        assert error.split(" on line ")[-1] in expected["errors_text"]
    assert [comparable(r) for r in records] == [comparable(q) for q in expected["questions"]]
