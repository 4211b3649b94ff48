"""Limits on the shape of JSON request bodies (the size limit is RequestBodyLimitMiddleware's).

- `LimitedJSONParser` (DRF's default parser): a body nested deeper than MAX_BODY_DEPTH levels is a
  400 parse error, never a RecursionError (a 500) or a slow walk in later code.
- `max_depth(MAX_DATA_DEPTH)`: serializer validator for case and work item data (400 naming the field).
- A string (value or key) holding a NUL character (`\u0000`) is a 400 parse error: PostgreSQL's jsonb
  and text columns cannot store it, so it would otherwise be a 500 there (and a different answer on SQLite).
- So is a lone UTF-16 surrogate (`\ud800`..`\udfff` not in a pair): it is not Unicode text, cannot be
  encoded as UTF-8, and would fail when the audit record's hash is computed.

Depth: a scalar is 0 levels deep, an object or array one more than its deepest member.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rest_framework import exceptions, parsers, serializers

__all__ = [
    "MAX_BODY_DEPTH", "MAX_DATA_DEPTH", "LimitedJSONParser", "json_depth", "max_depth", "has_nul", "has_surrogate",
]  # fmt: skip

_SURROGATE = re.compile("[\ud800-\udfff]")

MAX_DATA_DEPTH = 32  # case data and work item output data
MAX_BODY_DEPTH = 64  # any JSON body (a specification with its extensions, data inside the body)


def json_depth(value: Any, stop_after: int | None = None) -> int:
    """Nesting depth of a JSON value, without recursion; stops counting past `stop_after`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            members: Any = current.values()
        elif isinstance(current, list):
            members = current
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if stop_after is not None and deepest > stop_after:
            return deepest
        stack.extend((member, depth) for member in members)
    return deepest


def _any_string(value: Any, test: Callable[[str], bool]) -> bool:
    """Whether `test` holds for any string of a JSON value (object keys included)."""
    stack: list[Any] = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            if test(current):
                return True
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


def has_nul(value: Any) -> bool:
    """Whether any string of a JSON value (object keys included) contains a NUL character."""
    return _any_string(value, lambda text: "\x00" in text)


def has_surrogate(value: Any) -> bool:
    """Whether any string of a JSON value (object keys included) holds a lone UTF-16 surrogate."""
    return _any_string(value, lambda text: _SURROGATE.search(text) is not None)


def max_depth(limit: int) -> Callable[[Any], Any]:
    """A serializer validator: the value may nest at most `limit` levels."""

    def validate(value: Any) -> Any:
        if json_depth(value, stop_after=limit) > limit:
            raise serializers.ValidationError(f"Nested deeper than {limit} levels (objects and arrays).")
        return value

    return validate


class LimitedJSONParser(parsers.JSONParser):
    """DRF's JSON parser with a nesting limit of MAX_BODY_DEPTH and no NUL characters in strings."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        try:
            value = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {MAX_BODY_DEPTH} levels."
            ) from None
        if json_depth(value, stop_after=MAX_BODY_DEPTH) > MAX_BODY_DEPTH:
            raise exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_BODY_DEPTH} levels.")
        if has_nul(value):
            raise exceptions.ParseError("JSON parse error - strings may not contain NUL characters (\\u0000).")
        if has_surrogate(value):
            raise exceptions.ParseError(
                "JSON parse error - strings may not contain lone UTF-16 surrogates (\\ud800-\\udfff)."
            )
        return value
