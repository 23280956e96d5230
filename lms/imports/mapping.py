"""Which column holds which field: detected from Vietnamese or English headers, adjustable."""

from flask_babel import lazy_gettext as _l

from lms.core.text import fold

FIELDS = {
    "full_name": _l("Full name"),
    "email": _l("E-mail"),
    "phone": _l("Phone number"),
    "locality_code": _l("Commune code"),
    "locality_name": _l("Commune or ward (name)"),
    "agency_code": _l("Agency code"),
    "agency_name": _l("Agency (name)"),
    "position": _l("Position"),
    "audience": _l("Audience"),
}

# Folded header spellings; compared after fold() and with punctuation turned into spaces.
SYNONYMS = {
    "full_name": {"ho va ten", "ho ten", "full name", "name", "ten", "họ và tên", "fullname"},
    "email": {"email", "e mail", "thu dien tu", "dia chi email"},
    "phone": {"so dien thoai", "dien thoai", "sdt", "phone", "phone number", "mobile", "so dt"},
    "locality_code": {"ma xa", "ma phuong xa", "ma xa phuong", "commune code", "locality code", "ma dia ban",
                      "ward code", "ma don vi hanh chinh"},
    # HR files name the commune: "Xã/Phường", "Phường/Xã", "Xã, phường, thị trấn", "Địa bàn", …
    "locality_name": {"xa phuong", "phuong xa", "xa", "phuong", "xa phuong thi tran", "phuong xa thi tran",
                      "xa phuong dac khu", "phuong xa dac khu", "xa thi tran", "ten xa", "ten phuong xa", "ten xa phuong",
                      "dia ban", "dia ban xa phuong", "don vi hanh chinh", "xa phuong noi cong tac", "xa phuong cong tac",
                      "noi cu tru", "xa phuong cu tru", "commune", "ward", "commune ward", "ward commune", "commune name",
                      "locality"},
    "agency_code": {"ma co quan", "ma don vi", "agency code", "ma co quan don vi"},
    # … and the agency by its name: "Đơn vị", "Cơ quan", "Đơn vị công tác", "Cơ quan, đơn vị", …
    "agency_name": {"don vi", "co quan", "don vi cong tac", "co quan cong tac", "co quan don vi", "don vi co quan",
                    "ten co quan", "ten don vi", "ten co quan don vi", "noi cong tac", "co quan chu quan",
                    "agency", "agency name", "organisation", "organization", "department"},
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
