"""Loading specification files of any supported format into the JSON specification model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a `.json` specification, or a YAWL `.yawl`/`.xml` file, as a spec dict."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yawl", ".xml"):
        from knhk.engine.importers.yawl import import_yawl_file

        return import_yawl_file(path)
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            raise SpecFileError(f"{path}: file is {size} bytes; the limit is {MAX_SPEC_BYTES} bytes")
        with path.open(encoding="utf-8") as handle:
            document = json.load(handle)
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
    if isinstance(document, dict) and isinstance(document.get("spec"), dict):
        document = document["spec"]  # accept the API's request body as a file too
    if not isinstance(document, dict):
        raise SpecFileError(f"{path}: a specification must be a JSON object")
    return document
