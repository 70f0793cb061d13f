"""The unit dictionary in use: the reviewed one shipped with policy-notices plus an analyst's files."""

from __future__ import annotations

import copy
from pathlib import Path

from extractors.dictionary import UnitDictionary, default_dictionary
from pipeline.errors import NoticeError


def load_dictionary(extra: list[Path] | None = None) -> UnitDictionary:
    """The shipped dictionary, with the entries of each `extra` TSV file added (later files win)."""
    dictionary = default_dictionary()
    if not extra:
        return dictionary
    dictionary = copy.deepcopy(dictionary)
    for path in extra:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise NoticeError(f"cannot read the unit dictionary: {exc.strerror or exc}", path=str(path)) from exc
        except UnicodeDecodeError as exc:
            raise NoticeError("the unit dictionary must be UTF-8 text", path=str(path)) from exc
        try:
            dictionary.add_tsv(text, origin=str(path))
        except ValueError as exc:
            raise NoticeError(str(exc)) from exc
    return dictionary
