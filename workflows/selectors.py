"""Reads for workflow specifications (the API and admin pages)."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, QuerySet

from knhk.api.errors import NotFound
from workflows.models import WorkflowSpec


def spec_list(*, spec_id: str | None = None, all_versions: bool = False) -> QuerySet[WorkflowSpec]:
    """Specifications, latest version of each id unless `all_versions`."""
    queryset = WorkflowSpec.objects.defer("spec").order_by("spec_id", "-version")
    if spec_id:
        queryset = queryset.filter(spec_id=spec_id)
    if not all_versions:
        newer = WorkflowSpec.objects.filter(spec_id=OuterRef("spec_id"), version__gt=OuterRef("version"))
        queryset = queryset.filter(~Exists(newer))
    return queryset


def spec_detail(spec_id: str, version: int | None = None) -> WorkflowSpec:
    """One version (the latest by default), 404 when absent."""
    queryset = WorkflowSpec.objects.filter(spec_id=spec_id)
    row = (queryset.filter(version=version) if version is not None else queryset.order_by("-version")).first()
    if row is None:
        suffix = f" version {version}" if version is not None else ""
        raise NotFound(f"No workflow {spec_id!r}{suffix}.")
    return row


def spec_versions(spec_id: str) -> list[int]:
    return list(WorkflowSpec.objects.filter(spec_id=spec_id).order_by("version").values_list("version", flat=True))


def case_counts(spec: WorkflowSpec) -> dict[str, int]:
    """Cases of one spec version per state."""
    rows = spec.cases.values("state").annotate(n=Count("id")).order_by()
    return {row["state"]: row["n"] for row in rows}
