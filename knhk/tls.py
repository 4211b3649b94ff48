"""TLS for gunicorn from the environment (no Django here: gunicorn's config file imports it).

- WORKFLOW_TLS_CERT: PEM certificate (chain) file; WORKFLOW_TLS_KEY: its PEM private key.
  Both or neither: with neither, the service speaks plain HTTP (e.g. behind a TLS-terminating proxy).
- WORKFLOW_TLS_CLIENT_CA: optional PEM CA bundle; when set, clients must present a certificate
  signed by it (mutual TLS).

`tls_settings()` checks the files (they exist, the key matches the certificate, the CA loads) and
returns gunicorn settings; `gunicorn_args()` gives the same as command-line options; `ssl_context`
is gunicorn's hook that builds the server context (TLS 1.2 at least).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

CERT_VAR, KEY_VAR, CLIENT_CA_VAR = "WORKFLOW_TLS_CERT", "WORKFLOW_TLS_KEY", "WORKFLOW_TLS_CLIENT_CA"


class TLSConfigError(ValueError):
    """A TLS environment variable the service cannot run with."""


def _path(environ: Mapping[str, str], name: str) -> str | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise TLSConfigError(f"{name} must name a readable PEM file, got {raw!r} (no such file)")
    if not os.access(path, os.R_OK):
        raise TLSConfigError(f"{name} must name a readable PEM file, got {raw!r} (permission denied)")
    return str(path.resolve())


def tls_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """gunicorn settings (`certfile`, `keyfile`, and for mTLS `ca_certs`, `cert_reqs`); {} without TLS."""
    environ = os.environ if environ is None else environ
    cert, key, client_ca = (_path(environ, name) for name in (CERT_VAR, KEY_VAR, CLIENT_CA_VAR))
    if not cert and not key:
        if client_ca:
            raise TLSConfigError(f"{CLIENT_CA_VAR} needs {CERT_VAR} and {KEY_VAR} (client certificates need TLS)")
        return {}
    if not (cert and key):
        raise TLSConfigError(f"set both {CERT_VAR} and {KEY_VAR} (or neither), got only {CERT_VAR if cert else KEY_VAR}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise TLSConfigError(f"{CERT_VAR}/{KEY_VAR}: not a PEM certificate with its matching private key ({exc})") from None
    settings: dict[str, Any] = {"certfile": cert, "keyfile": key}
    if client_ca:
        try:
            context.load_verify_locations(cafile=client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise TLSConfigError(f"{CLIENT_CA_VAR}: not a PEM CA certificate bundle ({exc})") from None
        settings.update(ca_certs=client_ca, cert_reqs=ssl.CERT_REQUIRED)
    return settings


def gunicorn_args(environ: Mapping[str, str] | None = None) -> list[str]:
    """The TLS settings as gunicorn command-line options (--certfile, --keyfile, --ca-certs, --cert-reqs)."""
    args: list[str] = []
    for name, value in tls_settings(environ).items():
        args += [f"--{name.replace('_', '-')}", str(int(value) if name == "cert_reqs" else value)]
    return args


def ssl_context(config: Any, default_ssl_context_factory: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """gunicorn hook: the default context (certificate, key, client CA from the settings), TLS 1.2+."""
    context = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
