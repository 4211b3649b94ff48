"""Writes for workflow specifications: register (JSON or YAWL) and delete.

Registering an id that exists adds a version (v+1); cases keep the exact version they started on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from audit.services import record
from cases.models import ACTIVE_CASE_STATES, Case
from knhk import fortune5
from knhk.api.errors import BadRequest, Conflict, NotFound
from knhk.engine.spec import SpecError, Specification
from knhk.engine.verify import verify
from workflows.models import WorkflowSpec

__all__ = ["Registration", "register_spec", "import_yawl", "delete_spec"]


@dataclass(frozen=True)
class Registration:
    """A registered specification version and the verifier's warnings."""

    spec: WorkflowSpec
    warnings: list[str] = field(default_factory=list)
    created: bool = True


TEXT_LIMIT = 255  # the columns a spec's name and its nets' and tasks' ids and names are stored in


def _column_problems(spec: Specification) -> list[str]:
    """Names and ids too long for the columns they are stored in (a 500 on PostgreSQL otherwise)."""
    found = []
    if len(spec.name or "") > TEXT_LIMIT:
        found.append(f"name: longer than {TEXT_LIMIT} characters")
    for net in spec.nets:
        if len(net.id) > TEXT_LIMIT:
            found.append(f"net {net.id[:40]}...: id longer than {TEXT_LIMIT} characters")
        for task in net.tasks:
            where = f"net {net.id[:40]}: task {task.id[:40]!r}"
            if len(task.id) > TEXT_LIMIT:
                found.append(f"{where}: id longer than {TEXT_LIMIT} characters")
            if len(task.name or "") > TEXT_LIMIT:
                found.append(f"{where}: name longer than {TEXT_LIMIT} characters")
            if task.connector is not None and len(task.connector.name) > TEXT_LIMIT:
                found.append(f"{where}: connector name longer than {TEXT_LIMIT} characters")
    return found


def validate_spec(document: Any) -> tuple[Specification, list[str]]:
    """Parse and verify a spec document; 400 listing every message when it is not runnable."""
    if not isinstance(document, dict):
        raise BadRequest("The specification must be a JSON object.", code="invalid_spec",
                         details={"errors": ["spec: must be a JSON object"]})
    try:
        spec = Specification.from_dict(document)
    except SpecError as exc:
        raise BadRequest(
            "The specification is malformed: " + "; ".join(exc.messages),
            code="invalid_spec",
            details={"errors": exc.messages},
        ) from exc
    problems = verify(spec)
    errors = _column_problems(spec) + [problem.message for problem in problems if problem.severity == "error"]
    warnings = [problem.message for problem in problems if problem.severity != "error"]
    if errors:
        raise BadRequest(
            "The specification does not verify: " + "; ".join(errors),
            code="invalid_spec",
            details={"errors": errors, "warnings": warnings},
        )
    return spec, warnings


def register_spec(document: Any, *, source_format: str = "json", skip_unchanged: bool = False) -> Registration:
    """Verify and store a specification as the next version of its id.

    With `skip_unchanged`, a document identical to the latest version is not stored again.
    """
    spec, warnings = validate_spec(document)
    canonical = spec.to_dict()
    content_hash = spec.content_hash()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                latest = (
                    WorkflowSpec.objects.filter(spec_id=spec.id).order_by("-version").only("version", "content_hash")
                    .first()
                )
                if skip_unchanged and latest is not None and latest.content_hash == content_hash:
                    return Registration(WorkflowSpec.objects.get(pk=latest.pk), warnings, created=False)
                fortune5.check_promotion(spec.id)  # Fortune 5 mode: 409 while a latency SLO is breached
                row = WorkflowSpec.objects.create(
                    spec_id=spec.id,
                    version=(latest.version + 1) if latest else 1,
                    name=spec.name or "",
                    spec=canonical,
                    content_hash=content_hash,
                    source_format=source_format,
                )
                record("spec.registered", workflow_id=spec.id, data={
                    "version": row.version, "content_hash": content_hash, "source_format": source_format})
            return Registration(row, warnings)
        except IntegrityError:
            continue  # another request took this version number concurrently; take the next
    raise Conflict(f"Could not allocate a version for {spec.id!r}; retry the request.")


def import_yawl(data: bytes) -> Registration:
    """Convert a YAWL file (bytes) with the engine's importer and register it."""
    if not data.strip():
        raise BadRequest("The YAWL document is empty.", code="invalid_yawl")
    from knhk.engine.importers import yawl

    try:
        document = yawl.import_yawl_bytes(data)
    except SpecError as exc:
        raise BadRequest("The YAWL document is not a valid specification: " + "; ".join(exc.messages),
                         code="invalid_yawl", details={"errors": exc.messages}) from exc
    except (ValueError, SyntaxError) as exc:  # parse errors of the importer (XML, unsupported shapes)
        raise BadRequest(f"The YAWL document cannot be imported: {exc}", code="invalid_yawl",
                         details={"errors": [str(exc)]}) from exc
    return register_spec(document, source_format="yawl")


def delete_spec(spec_id: str, version: int | None = None) -> int:
    """Delete a spec's versions (or one) with their finished cases; 409 while any of its cases runs."""
    with transaction.atomic():
        versions = WorkflowSpec.objects.select_for_update().filter(spec_id=spec_id)
        if version is not None:
            versions = versions.filter(version=version)
        ids = list(versions.values_list("pk", flat=True))
        if not ids:
            suffix = f" version {version}" if version is not None else ""
            raise NotFound(f"No workflow {spec_id!r}{suffix}.")
        active = Case.objects.filter(spec_id__in=ids, state__in=ACTIVE_CASE_STATES).count()
        if active:
            raise Conflict(
                f"Workflow {spec_id!r} has {active} running or suspended case(s); cancel them first.",
                details={"active_cases": active},
            )
        WorkflowSpec.objects.filter(pk__in=ids).delete()
        record("spec.deleted", workflow_id=spec_id, data={"version": version, "versions_deleted": len(ids)})
        return len(ids)

