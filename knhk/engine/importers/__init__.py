"""Loading specification files of any supported format into the JSON specification model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from knhk.engine.spec import join_path
from knhk.engine.types import MAX_INTEGER_DIGITS

__all__ = ["load_spec_file", "SpecFileError", "MAX_SPEC_BYTES", "MAX_SPEC_DEPTH", "json_depth"]

MAX_SPEC_BYTES = 10 * 1024 * 1024  # larger specification files are refused before parsing (as YAWL files)
MAX_SPEC_DEPTH = 64  # objects and arrays nested deeper are refused (as the API's request bodies)


class SpecFileError(ValueError):
    """A file that cannot be read as a specification (the message says where and why)."""


def json_depth(value: Any, stop_after: int | None = None) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursion; stops counting past `stop_after`."""
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
        deepest = max(deepest, depth + 1)
        if stop_after is not None and deepest > stop_after:
            return deepest
        stack.extend((member, depth + 1) for member in members)
    return deepest


class _LongInteger(str):
    """An integer literal longer than MAX_INTEGER_DIGITS, kept as text until it is reported."""


def _long_integer_path(value: Any) -> tuple[str, int] | None:
    """The JSON path and digit count of the first over-long integer literal of a document."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, _LongInteger):
            return path or "(document)", len(current.lstrip("-"))
        if isinstance(current, dict | list):
            items = current.items() if isinstance(current, dict) else enumerate(current)
            for key, member in reversed(list(items)):
                stack.append((member, join_path(path, key)))
    return None


def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a `.json` specification, or a YAWL `.yawl`/`.xml` file, as a spec dict."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yawl", ".xml"):
        from knhk.engine.importers.yawl import import_yawl_file

        return import_yawl_file(path)
    long_integers: list[str] = []

    def parse_int(text: str) -> int | str:
        if len(text.lstrip("-")) <= MAX_INTEGER_DIGITS:
            return int(text)
        long_integers.append(text)
        return _LongInteger(text)

    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecFileError(f"{path}: file is {size} bytes; the limit is {MAX_SPEC_BYTES} bytes")
        with path.open(encoding="utf-8") as handle:
            document = json.load(handle, parse_int=parse_int)
    except OSError as exc:
        raise SpecFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise SpecFileError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    except UnicodeDecodeError as exc:
        raise SpecFileError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    except RecursionError:
        raise SpecFileError(f"{path}: nested deeper than {MAX_SPEC_DEPTH} levels") from None
    if json_depth(document, stop_after=MAX_SPEC_DEPTH) > MAX_SPEC_DEPTH:
        raise SpecFileError(f"{path}: nested deeper than {MAX_SPEC_DEPTH} levels")
    long_integer = _long_integer_path(document) if long_integers else None
    if long_integer is not None:
        where = long_integer[0].encode("utf-8", "backslashreplace").decode("utf-8")  # printable keys
        raise SpecFileError(
            f"{path}: {where}: an integer of {long_integer[1]} digits; at most {MAX_INTEGER_DIGITS} are allowed"
        )
    if isinstance(document, dict) and isinstance(document.get("spec"), dict):
        document = document["spec"]  # accept the API's request body as a file too
    if not isinstance(document, dict):
        raise SpecFileError(f"{path}: a specification must be a JSON object")
    return document
