"""The unit alias dictionary (责任单位词典): canonical names, aliases, level, kind.

Read from tab-separated text (extractors/rules/units.tsv, plus any file an
analyst adds), so the parser and `notices renormalize` share one definition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from extractors.text import compact

COLUMNS = ["canonical_name", "level", "kind", "jurisdiction", "aliases", "note"]


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
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cells = [c.strip() for c in line.split("\t")]
            if len(cells) < 2 or not cells[0]:
                raise ValueError(
                    f"{origin}, line {number}: expected tab-separated {', '.join(COLUMNS)}; got {line!r}"
                )
            cells += [""] * (len(COLUMNS) - len(cells))
            name, level, kind, jurisdiction, aliases, note = cells[: len(COLUMNS)]
            self.add(
                UnitEntry(
                    canonical_name=compact(name),
                    level=level or "unknown",
                    kind=kind or "unknown",
                    jurisdiction=jurisdiction or None,
                    aliases=tuple(compact(a) for a in aliases.split("|") if a.strip()),
                    note=note,
                )
            )

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


@cache
def default_dictionary() -> UnitDictionary:
    """The reviewed dictionary shipped with policy-notices."""
    text = (resources.files("extractors") / "rules" / "units.tsv").read_text(encoding="utf-8")
    return UnitDictionary.from_tsv(text, origin="extractors/rules/units.tsv")
