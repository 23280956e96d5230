"""Which column holds which field: detected from Vietnamese or English headers, adjustable."""

from flask_babel import lazy_gettext as _l

from lms.core.text import fold

FIELDS = {
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "phone": _l("Phone number"),
    "locality_code": _l("Commune code"),
    "agency_code": _l("Agency code"),
    "position": _l("Position"),
    "audience": _l("Audience"),
}

# Folded header spellings; compared after fold() and with punctuation turned into spaces.
SYNONYMS = {
    "full_name": {"ho va ten", "ho ten", "full name", "name", "ten", "họ và tên", "fullname"},
    "email": {"email", "e mail", "thu dien tu", "dia chi email"},
    "phone": {"so dien thoai", "dien thoai", "sdt", "phone", "phone number", "mobile", "so dt"},
    "locality_code": {"ma xa", "ma phuong xa", "ma xa phuong", "commune code", "locality code", "ma dia ban", "commune"},
    "agency_code": {"ma co quan", "ma don vi", "agency code", "agency", "co quan"},
    "position": {"chuc vu", "position", "chuc danh", "title"},
    "audience": {"doi tuong", "audience", "nhom"},
}


def _key(header: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in fold(header)).split())


def detect(headers: list[str]) -> dict:
    """{field: header} for the headers we recognise; the first match wins."""
    mapping = {}
    for header in headers:
        key = _key(header)
        for field, names in SYNONYMS.items():
            if field not in mapping and key in {_key(n) for n in names}:
                mapping[field] = header
    return mapping


AUDIENCE_WORDS = {
    "citizen": {"citizen", "resident", "nguoi dan", "cong dan", "dan"},
    "official": {"official", "civil servant", "can bo", "cong chuc", "vien chuc", "can bo cong chuc", "cbcc"},
    "cio": {"cio", "lanh dao cntt", "lanh dao"},
}


def audience_of(value: str) -> str | None:
    key = _key(value)
    for audience, words in AUDIENCE_WORDS.items():
        if key in words:
            return audience
    return None
