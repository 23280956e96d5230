"""Communes and agencies named in people files: "Phường Vũng Tàu", "phuong thang tam", "Sở TT…".

HR spreadsheets name the commune and the agency instead of giving codes. A name is matched
folded (NFD, marks dropped, đ→d, casefolded — `lms.core.text.fold`), with or without its unit
type ("Phường", "Xã", "Thị trấn", "P.", "X."), numbers without leading zeros ("Phường 01"), and
old names (the 2025-01 scheme) resolved to the unit that replaced them today through the
lineage (`Locality.current_id`, the default successor). Communes of the home area
(`LMS_HOME_LOCALITY`) come first: a name that is unique there is taken even when other provinces
have a unit of that name. Text after a comma narrows the match by district or province
("Phường 1, TP. Vũng Tàu"). A name that still fits several units, or none, is a row error that
says so — never a silent "no commune".
"""

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from lms.agencies.models import Agency
from lms.core.text import fold
from lms.extensions import db
from lms.localities.models import CURRENT_SCHEME, Locality
from lms.localities.queries import home_commune_ids

SHOWN_CANDIDATES = 6
# Abbreviations HR files use, folded, → the words of the official names. Unit types ("P.", "TP.")
# only where a unit type stands: first, or after "UBND" ("UBND P. Vũng Tàu").
_BODIES = {"ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan"}
_TYPE_ABBREVIATIONS = {"p": "phuong", "x": "xa", "tt": "thi tran", "q": "quan", "h": "huyen", "tp": "thanh pho",
                       "tx": "thi xa"}
_PUNCTUATION = re.compile(r"[^0-9a-z]+")
_UNIT_TYPES = ("thanh pho", "tinh", "quan", "huyen", "thi xa", "phuong", "thi tran", "xa", "dac khu")


def name_key(text: str, folded: bool = False) -> str:
    """A folded comparison key: punctuation to spaces, abbreviations spelled out, "01" → "1"."""
    words = _PUNCTUATION.sub(" ", (text if folded else fold(text)).replace("&", " va ")).split()
    spelled = []
    for index, word in enumerate(words):
        if word in _BODIES:
            word = _BODIES[word]
        elif word in _TYPE_ABBREVIATIONS and (index == 0 or words[index - 1] in _BODIES):
            word = _TYPE_ABBREVIATIONS[word]
        spelled.append(str(int(word)) if word.isdigit() else word)
    return " ".join(spelled)


def bare_key(text: str) -> str:
    """The key without a leading unit type: "Phường Vũng Tàu" and "Vũng Tàu" → "vung tau"."""
    return _without_type(name_key(text))


def _without_type(key: str) -> str:
    for unit_type in _UNIT_TYPES:
        if key.startswith(unit_type + " "):
            return key[len(unit_type) + 1:]
    return key


def _has_unit_type(key: str) -> bool:
    return any(key.startswith(unit_type + " ") for unit_type in _UNIT_TYPES)


@dataclass
class _Unit:
    id: int
    scheme: str
    level: str
    name: str
    parent_id: int | None
    current_id: int | None
    current_level: str | None = None


class CommuneNames:
    """Resolves commune names of one file to today's units; loads the units once per file."""

    def __init__(self):
        self._codes: dict[str, int] = {}
        self._units: dict[int, _Unit] = {}
        self._full: dict[str, list[int]] = {}
        self._bare: dict[str, list[int]] = {}
        self._home = home_commune_ids()
        self._cache: dict[str, tuple[int | None, str | None]] = {}
        folded, codes = {}, []
        for unit_id, scheme, level, code, name, name_folded, parent_id, current_id in db.session.execute(select(
                Locality.id, Locality.scheme, Locality.level, Locality.code, Locality.name, Locality.name_folded,
                Locality.parent_id, Locality.current_id)):
            self._units[unit_id] = _Unit(unit_id, scheme, level, name, parent_id, current_id)
            folded[unit_id] = name_folded
            codes.append((scheme == CURRENT_SCHEME, level == "commune", code, unit_id))
        # Code → today's unit: today's communes win over provinces and over former units of that code.
        for _current, _commune, code, unit_id in sorted(codes):
            target = self._today(unit_id)
            if target is not None:
                self._codes[code] = target
        for unit in self._units.values():
            current = self._units.get(unit.current_id) if unit.current_id else None
            unit.current_level = current.level if current else None
            # Communes of both schemes, and the old island districts that became commune-level zones.
            if unit.level == "commune" or (unit.level == "district" and unit.current_level == "commune"):
                key = name_key(folded[unit.id], folded=True)
                self._full.setdefault(key, []).append(unit.id)
                self._bare.setdefault(_without_type(key), []).append(unit.id)

    def by_code(self, code: str) -> tuple[int | None, str | None]:
        """A commune code (today's or a former one; Excel may have dropped its leading zeros)."""
        unit_id = self._codes.get(code) or (self._codes.get(code.zfill(5)) if code.isdigit() else None)
        return (unit_id, None) if unit_id else (None, _("Unknown commune code %(code)s.", code=code))

    def resolve(self, value: str) -> tuple[int | None, str | None]:
        """(today's unit id, None) or (None, a message for the row)."""
        if value not in self._cache:
            self._cache[value] = self._resolve(value)
        return self._cache[value]

    def _resolve(self, value: str):
        head, *qualifiers = [part.strip() for part in value.split(",")]
        if head.isdigit() and not qualifiers:
            return self.by_code(head)
        key = name_key(head)
        matches = self._full.get(key, []) if _has_unit_type(key) else []
        matches = matches or self._bare.get(bare_key(head), [])
        wanted = [bare_key(q) for q in qualifiers if bare_key(q)]
        matches = [unit_id for unit_id in matches if all(q in self._ancestor_keys(unit_id) for q in wanted)]
        targets: dict[int, list[int]] = {}
        for unit_id in matches:
            target = self._today(unit_id)
            if target is not None:
                targets.setdefault(target, []).append(unit_id)
        home = {target: units for target, units in targets.items() if target in self._home}
        chosen = home or targets
        if len(chosen) == 1:
            return next(iter(chosen)), None
        if not chosen:
            return None, _("No commune or ward is named “%(value)s” (names from before July 2025 are known too): "
                           "check the spelling, or give the commune code.", value=value)
        return None, self._ambiguous(value, chosen)

    def _today(self, unit_id: int) -> int | None:
        unit = self._units[unit_id]
        return unit.id if unit.scheme == CURRENT_SCHEME else unit.current_id

    def _chain(self, unit_id: int | None) -> list[_Unit]:
        chain, unit = [], self._units.get(unit_id) if unit_id else None
        while unit is not None:
            chain.append(unit)
            unit = self._units.get(unit.parent_id) if unit.parent_id else None
        return chain

    def _ancestor_keys(self, unit_id: int) -> set[str]:
        """Bare keys of the unit's district and province, and of those of the unit it became."""
        units = self._chain(unit_id)[1:] + self._chain(self._today(unit_id))[1:]
        return {bare_key(unit.name) for unit in units}

    def _describe(self, unit_id: int) -> str:
        unit, *parents = self._chain(unit_id)
        text = f"{unit.name} ({', '.join(parent.name for parent in parents)})" if parents else unit.name
        today = self._units.get(self._today(unit_id))
        if today is not None and today.id != unit.id:
            parent = self._units.get(today.parent_id) if today.parent_id else None
            text += f" → {today.name}" + (f" ({parent.name})" if parent else "")
        return text

    def _ambiguous(self, value: str, targets: dict[int, list[int]]) -> str:
        firsts = sorted((units[0] for units in targets.values()), key=self._describe)
        described = [self._describe(unit_id) for unit_id in firsts]
        shown = "; ".join(described[:SHOWN_CANDIDATES])
        if len(described) > SHOWN_CANDIDATES:
            shown += " " + _("and %(count)d more", count=len(described) - SHOWN_CANDIDATES)
        example = ", ".join([value, *(parent.name for parent in self._chain(firsts[0])[1:])])
        return _("“%(value)s” fits several communes: %(candidates)s. Add the district and province after a comma "
                 "(e.g. “%(example)s”) or give the commune code.", value=value, candidates=shown, example=example)


class AgencyNames:
    """Resolves agency names (or codes) of one file; "UBND" and "Ủy ban nhân dân" are the same."""

    def __init__(self):
        self._agencies = {agency.id: agency for agency in db.session.scalars(select(Agency))}
        self._codes = {agency.code.upper(): agency.id for agency in self._agencies.values()}
        self._names: dict[str, list[int]] = {}
        for agency in self._agencies.values():
            self._names.setdefault(name_key(agency.name), []).append(agency.id)

    def resolve(self, value: str) -> tuple[int | None, str | None]:
        found = self._names.get(name_key(value)) or ([self._codes[value.upper()]] if value.upper() in self._codes else [])
        if len(found) == 1:
            return found[0], None
        if not found:
            return None, _("No agency is named “%(value)s”: check the spelling, add the agency first, or give its "
                           "code.", value=value)
        described = []
        for agency_id in sorted(found):
            agency = self._agencies[agency_id]
            where = [agency.parent.name] if agency.parent else []
            where += [agency.locality.name] if agency.locality else []
            described.append(f"{agency.name} ({', '.join([agency.code, *where])})")
        return None, _("Several agencies are named “%(value)s”: %(candidates)s. Give the agency code instead.",
                       value=value, candidates="; ".join(described))
