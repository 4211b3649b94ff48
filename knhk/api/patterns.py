"""The engine's 43-pattern registry as JSON rows for GET /api/v1/patterns."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


def _row(entry: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(entry) and not isinstance(entry, type):
        return {f.name: _plain(getattr(entry, f.name)) for f in dataclasses.fields(entry)}
    if isinstance(entry, Mapping):
        return {str(k): _plain(v) for k, v in entry.items()}
    if hasattr(entry, "to_dict"):
        return entry.to_dict()
    return {"name": str(entry)}


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _row(value)
    return str(value)


def pattern_rows() -> list[dict[str, Any]]:
    """One JSON object per pattern, in registry order."""
    from knhk.engine.patterns import registry

    entries = registry()
    if isinstance(entries, Mapping):
        entries = entries.values()
    return [_row(entry) for entry in entries]
