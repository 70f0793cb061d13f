"""Resolve unit names to canonical units in the context of the notice that names them.

`市科协` in a 北京市 notice → 北京市科学技术协会 (jurisdiction rule);
`应急部` → 应急管理部 (alias); `市科委中关村管委会` → 市科委 + 中关村管委会 (split).
Resolution order: the dictionary (exact, alias in the place, national
alias), then a split into known names, then the local naming rules.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

import regex

from extractors.dictionary import UnitDictionary, UnitEntry, default_dictionary
from extractors.jurisdiction import Place, place_named
from extractors.rules import load
from extractors.units import is_collective, looks_like_unit
from schemas import UnitMention

_RULES = load("units")
_EXPANSIONS: dict[str, str] = _RULES["type_expansions"]
_LOCAL_RULES: list[dict] = _RULES["local_rules"]
_TYPES = {key: set(_RULES[key]) for key in ("local_unit_types", "party_unit_types")}
_VERTICAL: dict[str, str] = _RULES["vertical_types"]
_BRANCHES: list[tuple[str, str]] = sorted(_RULES["branch_prefixes"].items(), key=lambda kv: len(kv[0]), reverse=True)
_SUFFIX_BRANCHES: list[tuple[str, str]] = sorted(_RULES["suffix_branches"].items(), key=lambda kv: len(kv[0]), reverse=True)
_BRANCH_PLACE_RE = regex.compile(r"^\p{Han}{2,6}$")
_DISTRICT_RE = regex.compile(r"^(?P<district>\p{Han}{1,4}[区县])(?P<organ>(?:人民)?政府)?$")
_DISTRICT_BUREAU_RE = regex.compile(r"^(?P<district>\p{Han}{1,4}?[区县])(?P<rest>\p{Han}{2,})$")
_WRITTEN_OUT_RE = regex.compile(
    r"^(?!各|有关)\p{Han}{%d,}(?:%s)$"
    % (_RULES["written_out_min_chars"], "|".join(sorted(_RULES["written_out_suffixes"], key=len, reverse=True)))
)
_MIN_PIECE = 2


def _department_names() -> dict[str, str]:
    """Every written form of a standard department (发改委, 发展改革委, 住建局 …) → its full form."""
    suffixes = sorted(_RULES["department_suffixes"].items(), key=lambda kv: len(kv[0]), reverse=True)
    names: dict[str, str] = {}
    for full, shorts in _RULES["department_cores"].items():
        for written in [full, *shorts]:
            for suffix, full_suffix in suffixes:
                names.setdefault(written + suffix, full + full_suffix)
    return names


_DEPARTMENTS = _department_names()
_EXPANSIONS_LONGEST = sorted(_EXPANSIONS, key=len, reverse=True)
_KNOWN_TYPES = _TYPES["local_unit_types"] | set(_DEPARTMENTS.values())


@dataclass(frozen=True)
class Resolved:
    canonical_name: str | None
    resolution: str  # exact, alias, jurisdiction_rule, collective, unresolved


def _places(place: Place | None) -> list[str]:
    if place is None or place.is_national:
        return []
    return [p for p in dict.fromkeys([place.name, place.county, place.city, place.province]) if p]


def expand_type(rest: str) -> str | None:
    """Full form of a kind of organ as written after its place (住建局 → 住房和城乡建设局), or None if unknown."""
    if rest in _EXPANSIONS:
        return _EXPANSIONS[rest]
    if rest in _KNOWN_TYPES:
        return rest  # already a full form (交通委员会 stays, not 交通运输委员会)
    if rest in _DEPARTMENTS:
        return _DEPARTMENTS[rest]
    for short in _EXPANSIONS_LONGEST:
        if rest.endswith(short) and len(rest) > len(short):
            expanded = rest[: -len(short)] + _EXPANSIONS[short]
            if expanded in _KNOWN_TYPES:
                return expanded
    return None


_LEVELS = {"city": "municipal", "province": "provincial", "county": "district"}


def _where(place: Place, level: str, prefix: str) -> str | None:
    if level == "city":
        # 州X only in an autonomous prefecture's notice (恩施州住建局 is read in 恩施州).
        if prefix[0] in "州盟" and not (place.city or "").endswith(prefix[0]):
            return None
        return place.city
    if level == "province":
        return place.province
    # 区X only in a district's notice, 县X only in a county's (区委X, 团县委 alike).
    county = place.county
    level = next((c for c in prefix if c in "区县"), "")
    return county if county and level and county.endswith(level) else None


def rule_unit(name: str, place: Place | None, *, written_out: bool = True) -> UnitEntry | None:
    """The unit the naming rules build from a name read in `place`, or None.

    市X → 北京市X (X expanded to its full form), 区财政局 in a 巴中市恩阳区
    notice → 巴中市恩阳区财政局, 市税务局 → 国家税务总局宿州市税务局
    (vertically managed), 人民银行宿州市中心支行 → 中国人民银行宿州市中心支行.
    """
    for short, full in _BRANCHES:
        if name.startswith(short) and len(name) > len(short) + 1:
            # 人民银行宿州市中心支行 → 中国人民银行宿州市中心支行; a branch named in full stays as written.
            return UnitEntry(full + name[len(short) :], "branch", "government", None, note="built by a naming rule")
    for suffix, template in _SUFFIX_BRANCHES:
        where = name[: -len(suffix)]
        if name.endswith(suffix) and _BRANCH_PLACE_RE.match(where) and not where.startswith(("市", "省", "各")):
            # 大连银保监局 → 中国银行保险监督管理委员会大连监管局
            return UnitEntry(template.format(place=where), "branch", "government", None, note="built by a naming rule")
    if place is None or place.is_national:
        return None
    for rule in _LOCAL_RULES:
        if not name.startswith(rule["prefix"]):
            continue
        where = _where(place, rule["level"], rule["prefix"])
        if not where:
            continue
        rest = name[len(rule["prefix"]) :]
        level = _LEVELS[rule["level"]]
        if rule["kind"] == "government" and rest in _VERTICAL:
            return UnitEntry(_VERTICAL[rest].format(place=where), level, "government", where, note="vertically managed")
        if "{rest}" in rule["template"]:
            if rule["types"] == "party_unit_types":
                expanded = _expand_party(rest)
            else:
                expanded = expand_type(rest)
            if expanded is None and written_out and rule["types"] != "party_unit_types" and _WRITTEN_OUT_RE.match(rest):
                expanded = rest  # 市房屋登记中心: an organ written out in full, read in its place
            if expanded is None:
                continue  # 市未来局, 市房管中心: not a known kind of unit, and too short to be a full name
            canonical = rule["template"].format(place=where, rest=expanded)
        elif rest:
            continue
        else:
            canonical = rule["template"].format(place=where)
        return UnitEntry(canonical, level, rule["kind"], where, note="built by a jurisdiction rule")
    # The place written out: 宿州市地方金融监管局, 国家税务总局沈阳市税务局 is handled above.
    for where in _places(place):
        if name.startswith(where) and len(name) > len(where):
            rest = name[len(where) :]
            if rest in _VERTICAL:
                return UnitEntry(_VERTICAL[rest].format(place=where), "local", "government", where, note="vertically managed")
            expanded = expand_type(rest)
            if expanded is not None:
                return UnitEntry(where + expanded, "local", "government", where, note="built by a jurisdiction rule")
    bureau = _DISTRICT_BUREAU_RE.match(name)
    if place.city and bureau and not name.startswith(("各", "市", "省")):
        # 埇桥区教育体育局 in a 宿州市 notice → 宿州市埇桥区教育体育局 (a county's keeps its own name)
        expanded = expand_type(bureau.group("rest"))
        county = bureau.group("district")
        if expanded is not None and not expanded.startswith("人民政府"):
            where = county if county.endswith("县") else place.city + county
            return UnitEntry(where + expanded, "district", "government", where, note="built by a jurisdiction rule")
    district = _DISTRICT_RE.match(name)
    if place.city and district and not name.startswith(("各", "市", "省")):
        # 平谷区 in a 北京市 notice; 埇桥区政府 → 宿州市埇桥区人民政府
        if district.group("organ"):
            # A district's government carries its city's name (宿州市埇桥区人民政府); a county's does not (闽侯县人民政府).
            county = district.group("district")
            where = county if county.endswith("县") else place.city + county
            return UnitEntry(where + "人民政府", "district", "government", where, note="built by a jurisdiction rule")
        return UnitEntry(f"{place.city}{name}", "district", "jurisdiction", place.city, note="built by a jurisdiction rule")
    return None


def _expand_party(rest: str) -> str | None:
    expanded = _EXPANSIONS.get(rest, rest)
    if expanded in _TYPES["party_unit_types"]:
        return expanded
    for short in _EXPANSIONS_LONGEST:
        if rest.endswith(short) and len(rest) > len(short):
            candidate = rest[: -len(short)] + _EXPANSIONS[short]
            if candidate in _TYPES["party_unit_types"]:
                return candidate
    return None


def units_built_by_rules(mentions: Iterable[tuple[UnitMention, str | None]]) -> list[UnitEntry]:
    """The units that (mention, jurisdiction it was read in) pairs resolved to by a jurisdiction rule."""
    found: dict[str, UnitEntry] = {}
    for mention, jurisdiction in mentions:
        if mention.resolution == "jurisdiction_rule" and mention.canonical_name not in found:
            entry = rule_unit(mention.read_as or mention.raw_text, place_named(jurisdiction))
            if entry is not None:
                found[entry.canonical_name] = entry
    return sorted(found.values(), key=lambda e: e.canonical_name)


def resolve(
    name: str, place: Place | None, dictionary: UnitDictionary | None = None, *, written_out: bool = True
) -> Resolved:
    """Canonical unit for one name read in `place` (None: no jurisdiction known)."""
    dictionary = dictionary or default_dictionary()
    if is_collective(name):
        return Resolved(None, "collective")
    found = dictionary.lookup(name, _places(place))
    if found is not None:
        return Resolved(*found)
    built = rule_unit(name, place, written_out=written_out)
    if built is not None:
        return Resolved(built.canonical_name, "jurisdiction_rule")
    return Resolved(None, "unresolved")


def split_run_together(name: str, place: Place | None, dictionary: UnitDictionary | None = None) -> list[str]:
    """Names written with no separator (`市科委中关村管委会`) → the known names they are made of.

    Returns [name] when the name is known as a whole or cannot be cut into
    pieces that each resolve.
    """
    dictionary = dictionary or default_dictionary()
    # A name is split only into standard names; `市房屋登记中心` read as written comes after.
    if len(name) < 2 * _MIN_PIECE or resolve(name, place, dictionary, written_out=False).resolution != "unresolved":
        return [name]
    n = len(name)
    # best[i]: fewest pieces covering name[:i], with the pieces.
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(_MIN_PIECE, n + 1):
        for start in range(0, end - _MIN_PIECE + 1):
            if best[start] is None:
                continue
            piece = name[start:end]
            if not looks_like_unit(piece) or resolve(piece, place, dictionary, written_out=False).canonical_name is None:
                continue
            candidate = best[start] + [piece]
            if best[end] is None or len(candidate) < len(best[end]):
                best[end] = candidate
    pieces = best[n]
    return pieces if pieces and len(pieces) >= 2 else [name]


def suggest(name: str, place: Place | None, dictionary: UnitDictionary | None = None, n: int = 3) -> list[str]:
    """Closest dictionary names to an unresolved one, as 'name → canonical' hints for a reviewer."""
    dictionary = dictionary or default_dictionary()
    places = set(_places(place)) | {None}
    candidates = {alias: canonical for (where, alias), canonical in dictionary.names.items() if where in places}
    matches = difflib.get_close_matches(name, list(candidates), n=n, cutoff=0.5)
    return [f"{m} → {candidates[m]}" if m != candidates[m] else m for m in matches]


def named_in_full(name: str, organs: Iterable[str]) -> str | None:
    """The one organ of `organs` that `name` abbreviates (沈阳公积金中心 → 沈阳住房公积金管理中心), or None.

    An abbreviation keeps its organ's opening place and closing word and drops
    characters in between: the notice that signs with the full name settles it.
    """
    found = {
        organ
        for organ in organs
        if len(organ) > len(name) >= 4 and organ[:2] == name[:2] and organ[-1] == name[-1] and _in_order(name, organ)
    }
    return found.pop() if len(found) == 1 else None


def _in_order(short: str, full: str) -> bool:
    chars = iter(full)
    return all(ch in chars for ch in short)


def resolve_mentions(
    mentions: list[UnitMention],
    jurisdiction: str | None,
    dictionary: UnitDictionary | None = None,
    organs: Iterable[str] = (),
) -> list[UnitMention]:
    """Mentions with canonical units; run-together names become several mentions.

    A piece cut from a leading name: the first keeps the lead, the others take part.
    `organs`: the notice's own issuers, named in full; a unit name that
    abbreviates one of them (and resolves no other way) is that organ.
    """
    dictionary = dictionary or default_dictionary()
    place = place_named(jurisdiction)
    organs = [o for o in organs if o]
    out: list[UnitMention] = []
    for mention in mentions:
        carried_level = bool(mention.read_as) and mention.read_as[1:] == mention.raw_text
        if (
            mention.read_as
            and not mention.is_collective
            and (
                not carried_level
                or expand_type(mention.raw_text) is not None
            )
        ):
            # 省公安厅、发展改革委: a standard department named bare after a 省 name is the province's;
            # 马尾区、闽侯县人民政府: a place before a place's government shares its organ word.
            carried = resolve(mention.read_as, place, dictionary)
            if carried.canonical_name is not None:
                out.append(
                    mention.model_copy(
                        update={
                            "position": len(out) + 1,
                            "canonical_name": carried.canonical_name,
                            "resolution": carried.resolution,
                        }
                    )
                )
                continue
        pieces = [mention.raw_text] if mention.is_collective else split_run_together(mention.raw_text, place, dictionary)
        for k, piece in enumerate(pieces):
            found = resolve(piece, place, dictionary)
            if found.resolution == "unresolved" and (full := named_in_full(piece, organs)) is not None:
                found = Resolved(full, "alias")
            role = mention.role if k == 0 or mention.role != "lead" else "participant"
            out.append(
                mention.model_copy(
                    update={
                        "position": len(out) + 1,
                        "raw_text": piece,
                        "role": role,
                        "canonical_name": found.canonical_name,
                        "resolution": found.resolution,
                        "split_from": mention.raw_text if len(pieces) > 1 else None,
                        "read_as": None,
                    }
                )
            )
    return out
