"""Which place a notice speaks for (全国, a province, a city): short names depend on it."""

from __future__ import annotations

from dataclasses import dataclass

import regex

from extractors.rules import load
from schemas import DocNumber

NATIONAL = "全国"
_RULES = load("jurisdictions")
_PROVINCE_NAMES = sorted(
    _RULES["municipalities"] + _RULES["provinces"] + list(_RULES["province_short_names"]), key=len, reverse=True
)
# A city, prefecture or league: 唐山市, 恩施州, 恩施土家族苗族自治州, 阿拉善盟 (not 促进房地产市场).
_CITY_RE = regex.compile(r"^(?P<city>\p{Han}{2,10}?自治州|\p{Han}{2,4}?[市州盟])(?!场)")
_COUNTY_RE = regex.compile(r"^(?P<county>\p{Han}{2,4}?[县区旗])")
# A county or district after its city (巴中市恩阳区人民政府): the organ speaks for the county.
_COUNTY_AFTER_CITY_RE = regex.compile(r"^(?P<county>\p{Han}{1,4}?(?:[县旗]|区(?!域)))(?=\p{Han})")
_PLACE_RE = regex.compile(r"^(?P<city>\p{Han}{2,10}?自治州|\p{Han}{2,5}?[市州盟])(?P<county>\p{Han}{1,6}[区县旗市])$")


@dataclass(frozen=True)
class Place:
    """A jurisdiction with its enclosing levels (a city knows its province when the table does)."""

    name: str
    province: str | None = None
    city: str | None = None
    county: str | None = None  # 巴中市恩阳区, 安化县: where 区X / 县X are read

    @property
    def is_national(self) -> bool:
        return self.name == NATIONAL


def place_named(name: str | None) -> Place | None:
    """The Place for a jurisdiction name as stored (北京市, 唐山市, 广东省, 全国)."""
    if not name:
        return None
    if name == NATIONAL:
        return Place(NATIONAL)
    if name in _RULES["municipalities"]:
        return Place(name, province=name, city=name)
    if name in _RULES["provinces"]:
        return Place(name, province=name)
    m = _PLACE_RE.match(name)
    if m is not None:
        city = m.group("city")
        province = city if city in _RULES["municipalities"] else _RULES["city_province"].get(city)
        return Place(name, province=province, city=city, county=name)
    if name.endswith(("县", "区", "旗")):
        return Place(name, province=_RULES["city_province"].get(name), county=name)
    return Place(name, province=_RULES["city_province"].get(name), city=name)


def place_of_organ(organ: str) -> str | None:
    """The jurisdiction an organ's name states: 北京市…→北京市, 唐山市…→唐山市, 中国科协…→全国."""
    if organ.startswith(tuple(_RULES["national_markers"])):
        return NATIONAL
    for key in _PROVINCE_NAMES:
        if organ.startswith(key):
            province = _RULES["province_short_names"].get(key, key)
            rest = organ[len(key) :]
            if province in _RULES["municipalities"]:
                return province + _county_after(rest)
            city = _CITY_RE.match(rest)
            if city and len(rest) > len(city.group("city")) + 1 and not rest.startswith(("人民政府", "委")):
                return city.group("city") + _county_after(rest[len(city.group("city")) :])
            return province
    city = _CITY_RE.match(organ)
    if city:
        return city.group("city") + _county_after(organ[len(city.group("city")) :])
    county = _COUNTY_RE.match(organ)
    if county:
        return county.group("county")
    return None


def _county_after(rest: str) -> str:
    """恩阳区 when `rest` (what follows a city's name) opens with a county or district, else ''."""
    m = _COUNTY_AFTER_CITY_RE.match(rest)
    if m is None or m.group("county") in _RULES["not_county_words"]:
        return ""  # 北京市社区服务中心, 广州市小区…
    return m.group("county")


def jurisdiction_of(issuers: list[str], doc_number: DocNumber | None) -> str | None:
    """The notice's jurisdiction, from its issuers, else from its number's prefix (京 → 北京市)."""
    for issuer in issuers:
        place = place_of_organ(issuer)
        if place is not None:
            return place
    if doc_number is not None:
        return _RULES["doc_number_prefixes"].get(doc_number.organ_code[:1])
    return None


def _province_short(name: str) -> str:
    for suffix in ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


_PROVINCE_FORMS = {form: p for p in _RULES["provinces"] + _RULES["municipalities"] for form in (p, _province_short(p))}
_PROVINCE_FORM_RE = regex.compile("|".join(sorted(map(regex.escape, _PROVINCE_FORMS), key=len, reverse=True)))


def only_province_named(text: str) -> str | None:
    """The province when `text` names exactly one (安徽省 … 放心消费在安徽), else None."""
    found = {_PROVINCE_FORMS[m.group(0)] for m in _PROVINCE_FORM_RE.finditer(text)}
    return found.pop() if len(found) == 1 else None


# A city named in running text: 泸州市 after a word's end (促进泸州市…, 国家税务总局泸州市税务局, 人行泸州市分行).
_CITY_IN_TEXT_RE = regex.compile(r"(?P<city>\p{Han}{2,3}市)(?!场)")
_NOT_CITIES = set(_RULES["not_city_words"])
_NOT_BEFORE_CITY = set("委局办厅部会院件府区县省")
_NOT_CITY_START = set("跨各全本该在对于和及与非每其")


def only_city_named(text: str) -> str | None:
    """The city when `text` names exactly one, at least twice (a notice with no issuer: a draft, a page), else None.

    Names are read as two characters + 市 where that form occurs (在泸州市 is 泸州市), else three.
    """
    found = [m.group("city") for m in _CITY_IN_TEXT_RE.finditer(text, overlapped=True)]
    short = {c for c in found if len(c) == 3}
    counts: dict[str, int] = {}
    for city in found:
        if len(city) == 4 and city[1:] in short:
            continue  # 在泸州市: counted as 泸州市
        if city in _NOT_CITIES or city[-2:] in _NOT_CITIES or city[:-1] in _PROVINCE_FORMS:
            continue
        if city[-2] in _NOT_BEFORE_CITY or city[0] in _NOT_CITY_START:
            continue  # 教育工委市…, 跨市: the end of a word, not a place
        counts[city] = counts.get(city, 0) + 1
    counts = {c: n for c, n in counts.items() if n >= 2}
    if len(counts) != 1:
        return None
    city = next(iter(counts))
    # 福州市长乐区 written out twice or more, and no other county of the city: the notice is the county's.
    counties: dict[str, int] = {}
    for m in regex.finditer(regex.escape(city) + r"(?P<county>\p{Han}{1,3}?[区县])(?=\p{Han})", text):
        counties[m.group("county")] = counties.get(m.group("county"), 0) + 1
    if len(counties) == 1 and max(counties.values()) >= 2:
        return city + next(iter(counties))
    return city
