"""Loading specification files of any supported format into the JSON specification model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["load_spec_file", "SpecFileError"]


class SpecFileError(ValueError):
    """A file that cannot be read as a specification (the message says where and why)."""


def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a `.json` specification, or a YAWL `.yawl`/`.xml` file, as a spec dict."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".yawl", ".xml"):
        from knhk.engine.importers.yawl import import_yawl_file

        return import_yawl_file(path)
    try:
        with path.open(encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as exc:
        raise SpecFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise SpecFileError(f"{path}: line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if isinstance(document, dict) and isinstance(document.get("spec"), dict):
        document = document["spec"]  # accept the API's request body as a file too
    if not isinstance(document, dict):
        raise SpecFileError(f"{path}: a specification must be a JSON object")
    return document
