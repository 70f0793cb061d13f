"""The unit alias dictionary (责任单位词典): canonical names, aliases, level, kind.

Read from tab-separated text (extractors/rules/units.tsv, plus any file an
analyst adds), so the parser and `notices renormalize` share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import regex

from extractors.text import compact

COLUMNS = ["canonical_name", "level", "kind", "jurisdiction", "aliases", "note"]
# A jurisdiction as items store it: a full place name (北京市, 广东省, 巴中市恩阳区), not 北京.
_PLACE_NAME = regex.compile(r"\p{Han}{2,}(?:省|市|自治区|特别行政区|自治州|地区|盟|州|区|县|旗|镇|乡|街道)")
# The values a dictionary line may give (empty: unknown). 层级 and 类别 of a unit.
LEVELS = ("central", "provincial", "municipal", "district", "township")
KINDS = ("party", "government", "people_organization", "public_institution", "legislature_judiciary",
         "military", "enterprise", "jurisdiction")


@dataclass(frozen=True)
class UnitEntry:
    canonical_name: str
    level: str
    kind: str
    jurisdiction: str | None  # None: a central unit, its names hold everywhere
    aliases: tuple[str, ...] = ()
    note: str = ""


@dataclass
class UnitDictionary:
    entries: dict[str, UnitEntry] = field(default_factory=dict)
    # (jurisdiction or None, name) → canonical name; canonical names are keyed too.
    names: dict[tuple[str | None, str], str] = field(default_factory=dict)

    @classmethod
    def from_tsv(cls, text: str, *, origin: str = "dictionary") -> UnitDictionary:
        """Parse dictionary lines; raises ValueError naming the line on a malformed one."""
        d = cls()
        d.add_tsv(text, origin=origin)
        return d

    def add_tsv(self, text: str, *, origin: str = "dictionary") -> None:
        """Add the entries of dictionary lines; raises ValueError listing every bad line, one a line."""
        entries, errors = read_tsv(text, origin=origin)
        if errors:
            raise ValueError("\n".join(errors))
        for entry in entries:
            self.add(entry)

    def add(self, entry: UnitEntry) -> None:
        self.entries[entry.canonical_name] = entry
        self.names[(None, entry.canonical_name)] = entry.canonical_name
        for alias in entry.aliases:
            self.names[(entry.jurisdiction, alias)] = entry.canonical_name

    def lookup(self, name: str, places: list[str]) -> tuple[str, str] | None:
        """(canonical name, 'exact' or 'alias') for a name read in `places` (most specific first)."""
        if (None, name) in self.names and name in self.entries:
            return name, "exact"
        for place in [*places, None]:
            canonical = self.names.get((place, name))
            if canonical is not None:
                return canonical, "alias"
        return None

    def all_names(self) -> list[str]:
        return sorted({name for _, name in self.names})


def read_tsv(text: str, *, origin: str = "dictionary") -> tuple[list[UnitEntry], list[str]]:
    """The entries of dictionary lines, and one message per bad line ("origin, line N: what is wrong")."""
    entries: list[UnitEntry] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{origin}, line {number}"
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 2 or not cells[0]:
            errors.append(f"{where}: expected tab-separated {', '.join(COLUMNS)}; got {line[:80]!r}")
            continue
        while len(cells) > len(COLUMNS) and not cells[-1]:
            cells.pop()  # trailing tabs (spreadsheet exports)
        if len(cells) > len(COLUMNS):
            errors.append(f"{where}: {len(cells)} columns, at most {len(COLUMNS)} ({', '.join(COLUMNS)})")
            continue
        cells += [""] * (len(COLUMNS) - len(cells))
        name, level, kind, jurisdiction, aliases, note = cells
        problems = []
        if level and level not in LEVELS:
            problems.append(f"level {level!r} is not one of {', '.join(LEVELS)}")
        if kind and kind not in KINDS:
            problems.append(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if jurisdiction and not _PLACE_NAME.fullmatch(jurisdiction):
            problems.append(f"jurisdiction {jurisdiction!r} is not a place name (write it in full: 北京市, 广东省, 巴中市恩阳区)")
        if level == "central" and jurisdiction:
            problems.append("a central unit has no jurisdiction (leave the column empty)")
        if level and level != "central" and not jurisdiction:
            problems.append(f"a {level} unit needs its jurisdiction (the place whose notices use these names)")
        if problems:
            errors.append(f"{where} ({name}): " + "; ".join(problems))
            continue
        entries.append(
            UnitEntry(
                canonical_name=compact(name),
                level=level or "unknown",
                kind=kind or "unknown",
                jurisdiction=jurisdiction or None,
                aliases=tuple(compact(a) for a in aliases.split("|") if a.strip()),
                note=note,
            )
        )
    return entries, errors


@cache
def default_dictionary() -> UnitDictionary:
    """The reviewed dictionary shipped with policy-notices."""
    text = (resources.files("extractors") / "rules" / "units.tsv").read_text(encoding="utf-8")
    return UnitDictionary.from_tsv(text, origin="extractors/rules/units.tsv")
