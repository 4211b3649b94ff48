"""Content negotiation: an unsupported `?format=` is a 400 naming the supported formats.

DRF's default answers a `?format=` (URL_FORMAT_OVERRIDE) that no renderer of the view has with a bare
404, as if the resource did not exist; here it is a 400 in the common error shape instead, e.g.
`GET /api/v1/audit/export?format=xml` -> `{"error": {"code": "invalid", "details": {"format": [...]}}}`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation


class ContentNegotiation(DefaultContentNegotiation):
    def filter_renderers(self, renderers: list[Any], format: str) -> list[Any]:  # noqa: A002 (DRF's name)
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            supported = list(dict.fromkeys(renderer.format for renderer in renderers if renderer.format))
            raise ValidationError({self.settings.URL_FORMAT_OVERRIDE or "format": [
                f"Unsupported format {format[:50]!r}; supported: {', '.join(supported)}."
            ]})
        return matching
