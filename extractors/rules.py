"""Load the rule tables in extractors/rules/ (package data, read once)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> dict[str, Any]:
    """The rule table `name` (``structure`` or ``units``) as a dict."""
    path = resources.files("extractors") / "rules" / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8"))
