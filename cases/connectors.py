"""Connectors: how an automated task's work is done, by name.

A connector is a Python callable `(config, data) -> output dict`. Built in: "noop" (no output) and
"echo" (returns its input data, plus `config["output"]` if given). Register more with `@connector("name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Connector = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]

_REGISTRY: dict[str, Connector] = {}


class ConnectorError(RuntimeError):
    """A connector failed; the task may retry it."""


def connector(name: str) -> Callable[[Connector], Connector]:
    """Register a connector under `name`."""

    def register(function: Connector) -> Connector:
        _REGISTRY[name] = function
        return function

    return register


def get_connector(name: str) -> Connector:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConnectorError(f"unknown connector {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def run_connector(name: str, config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Run a connector; any failure is a ConnectorError, a non-dict result too."""
    function = get_connector(name)
    try:
        output = function(dict(config or {}), dict(data or {}))
    except ConnectorError:
        raise
    except Exception as exc:  # a connector's own failure, reported on the work item
        raise ConnectorError(f"connector {name!r} failed: {exc.__class__.__name__}: {exc}") from exc
    if output is None:
        return {}
    if not isinstance(output, dict):
        raise ConnectorError(f"connector {name!r} returned {type(output).__name__}, not an object")
    return output


@connector("noop")
def noop(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {}


@connector("echo")
def echo(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    return {**data, **dict(config.get("output") or {})}
