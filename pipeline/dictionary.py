"""The unit dictionary in use: the reviewed one shipped with policy-notices plus an analyst's entries.

An analyst's entries (`--dictionary FILE`) are kept in the database they were given to
(table custom_units), so later commands on that database use them without the flag.
"""

from __future__ import annotations

import copy
from pathlib import Path

from extractors.dictionary import UnitDictionary, UnitEntry, default_dictionary, read_tsv
from pipeline.errors import NoticeError


def read_dictionary_files(paths: list[Path] | None) -> list[tuple[UnitEntry, str]]:
    """(entry, file) for every line of the TSV files at `paths`, in order (later lines win).

    Every bad line of every file is reported at once, one a line, and nothing is taken.
    """
    entries: list[tuple[UnitEntry, str]] = []
    errors: list[str] = []
    for path in paths or []:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise NoticeError(f"cannot read the unit dictionary: {exc.strerror or exc}", path=str(path)) from exc
        except UnicodeDecodeError as exc:
            raise NoticeError("the unit dictionary must be UTF-8 text", path=str(path)) from exc
        read, bad = read_tsv(text, origin=str(path))
        entries += [(entry, str(path)) for entry in read]
        errors += bad
    if errors:
        raise NoticeError(
            f"{len(errors)} bad line{'s' if len(errors) > 1 else ''} in the unit dictionary; fix "
            f"{'them' if len(errors) > 1 else 'it'} and run the command again (nothing was changed):\n  "
            + "\n  ".join(errors)
        )
    return entries


def with_entries(entries: list[UnitEntry]) -> UnitDictionary:
    """The shipped dictionary with `entries` added (later entries win)."""
    dictionary = default_dictionary()
    if not entries:
        return dictionary
    dictionary = copy.deepcopy(dictionary)
    for entry in entries:
        dictionary.add(entry)
    return dictionary

