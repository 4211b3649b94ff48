"""The HTTP connector, registered as "http" beside the platform's callables (cases.connectors).

Task spec:
    "connector": {"name": "http", "config": {"url": "https://svc/score", "method": "POST",
                  "headers": {...}, "timeout": 10}, "max_retries": 3, "retry_delay": 1.0}
The work item's input data is sent as the JSON body (as query parameters for GET). A 2xx answer
completes the item: a JSON object is its output data, any other JSON value is {"result": value}, an
empty body is {}. Any other status, a timeout or a connection error is a ConnectorError (retried).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

import httpx

from cases.connectors import ConnectorError, connector

DEFAULT_TIMEOUT = 10.0
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def breaker_key(name: str, config: dict[str, Any]) -> str:
    """The breaker a call belongs to: one per HTTP host, one per named callable."""
    if name == "http":
        host = urlparse(str(config.get("url") or "")).netloc
        return f"http:{host or 'unknown'}"
    return name


@connector("http")
def http(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    url = config.get("url")
    if not isinstance(url, str) or urlparse(url).scheme not in ("http", "https"):
        raise ConnectorError(f"http connector needs config.url with http:// or https://, got {url!r}")
    method = str(config.get("method", "POST")).upper()
    if method not in _METHODS:
        raise ConnectorError(f"http connector method must be one of {sorted(_METHODS)}, got {method!r}")
    headers = {str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}
    from knhk.observability.logging import current_request_id

    if (request_id := current_request_id()) is not None:
        headers.setdefault("X-Request-ID", request_id)
    timeout = float(config.get("timeout", DEFAULT_TIMEOUT))
    body = {"params": data} if method == "GET" else {"json": data}
    try:
        response = httpx.request(method, url, headers=headers, timeout=timeout, **body)
    except httpx.HTTPError as exc:
        raise ConnectorError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
    if not response.is_success:
        raise ConnectorError(f"{method} {url} answered {response.status_code}: {response.text[:200]}")
    if not response.content.strip():
        return {}
    try:
        value = response.json()
    except json.JSONDecodeError as exc:
        raise ConnectorError(f"{method} {url} answered {response.status_code} with a body that is not JSON") from exc
    return value if isinstance(value, dict) else {"result": value}
