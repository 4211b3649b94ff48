"""Writes for the dead letter queue: a failed automated item becomes an incident; operators act on it.

- retry: optionally merge corrected input data into the work item, then run its connector again (a
  new round of attempts with the task's retry policy); success resolves the incident, failure puts it
  back in the queue;
- skip: complete the work item with the given output data; the case advances;
- cancel: cancel the case.
Acting on an incident that is not open, or whose work item or case is no longer live, is a 409.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import CaseState, WorkItem, WorkItemState
from incidents.models import UNRESOLVED_STATES, Incident, IncidentState
from knhk.api.errors import BadRequest, Conflict, NotFound

logger = logging.getLogger("knhk.incidents")
AUDIT_ACTIONS = {IncidentState.RETRYING: "incident.retried", IncidentState.SKIPPED: "incident.skipped",
                 IncidentState.CANCELLED: "incident.cancelled"}


def dead_letter(work_item_id: Any, connector: str, error: str, attempts: int) -> Incident:
    """Put an automated work item into the dead letter queue (or back into it after a failed retry)."""
    with transaction.atomic():
        row = WorkItem.objects.select_related("case__spec").get(pk=work_item_id)
        incident = (Incident.objects.select_for_update()
                    .filter(work_item=row, state__in=UNRESOLVED_STATES).first())
        if incident is None:
            incident = Incident(case=row.case, work_item=row, workflow_id=row.case.spec.spec_id,
                                task_id=row.task_id, connector=connector)
        incident.state = IncidentState.OPEN
        incident.error = error
        incident.attempts += attempts
        incident.save()
        _audit(incident, "incident.opened", None, {"attempts": attempts, "error": error[:500]})
    logger.error("work item %s dead-lettered after %d attempts: %s", work_item_id, attempts, error,
                 extra={"workflow_id": incident.workflow_id, "case_id": str(row.case_id), "task_id": row.task_id,
                        "incident_id": str(incident.id)})
    return incident


def resolve_for_item(work_item_id: Any) -> None:
    """The item's connector succeeded on an operator's retry: its incident is resolved."""
    with transaction.atomic():
        for incident in Incident.objects.select_for_update().filter(work_item_id=work_item_id,
                                                                     state=IncidentState.RETRYING):
            incident.state, incident.resolved_at = IncidentState.RESOLVED, timezone.now()
            incident.save(update_fields=["state", "resolved_at", "updated_at"])
            _audit(incident, "incident.resolved", None, {})


class StaleIncident(Conflict):
    """The incident's work item or case ended some other way; the incident is closed."""


def _locked_open(incident_id: Any, action: str) -> Incident:
    """The incident, locked, with its work item and case; 404/409 unless it is open and still live."""
    try:
        incident = (Incident.objects.select_for_update(of=("self",))
                    .select_related("work_item", "case").get(pk=incident_id))
    except (Incident.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"No incident {incident_id}.") from None
    if incident.state != IncidentState.OPEN:
        raise Conflict(f"Cannot {action} incident {incident_id}: it is {incident.state}.",
                       details={"incident_id": str(incident_id), "state": incident.state})
    item, case = incident.work_item, incident.case
    if item.state == WorkItemState.STARTED and case.state == CaseState.SUSPENDED:
        raise Conflict(f"Cannot {action} incident {incident_id}: its case is suspended; resume it first.",
                       details={"incident_id": str(incident_id), "case_state": case.state})
    if item.state != WorkItemState.STARTED or case.state != CaseState.RUNNING:
        raise StaleIncident(f"Cannot {action} incident {incident_id}: its work item is {item.state} and its case "
                            f"is {case.state}; the incident is closed.",
                            details={"incident_id": str(incident_id), "work_item_state": item.state,
                                     "case_state": case.state})
    return incident


def _act(incident_id: Any, action: str, body: Callable[[Incident], None]) -> Incident:
    """Run `body` on the locked open incident in one transaction; a stale incident is closed, then 409."""
    try:
        with transaction.atomic():
            incident = _locked_open(incident_id, action)
            body(incident)
            return incident
    except StaleIncident as stale:
        Incident.objects.filter(pk=incident_id).update(
            state=IncidentState.CANCELLED, resolution=f"closed: {stale.detail}", resolved_at=timezone.now()
        )
        raise


def _object(data: Any, what: str) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadRequest(f"{what} must be a JSON object.", details={"data": ["Must be an object."]})
    return data


def _close(incident: Incident, state: str, resolution: str, actor: Any, data: Any = None) -> None:
    incident.state = state
    incident.resolution = resolution
    incident.resolved_by = actor if getattr(actor, "is_authenticated", False) else None
    if state != IncidentState.RETRYING:
        incident.resolved_at = timezone.now()
    incident.save()
    _audit(incident, AUDIT_ACTIONS[state], actor, {"data": data})


def _audit(incident: Incident, action: str, actor: Any, data: dict[str, Any]) -> None:
    """One audit record, in the caller's transaction (audit/)."""
    from audit.services import record

    record(action, actor=actor, workflow_id=incident.workflow_id, case_id=incident.case_id,
           work_item=incident.work_item_id, data={"incident_id": str(incident.id), **data})


def retry_incident(incident_id: Any, data: Any = None, *, actor: Any = None) -> Incident:
    """Merge `data` into the item's input data and run its connector again (on commit)."""
    from cases import tasks

    fix = _object(data, "Retry data")
    note = "retry" + (f" with data {sorted(fix)}" if fix else "")

    def retry(incident: Incident) -> None:
        if fix:
            item = incident.work_item
            WorkItem.objects.filter(pk=item.pk).update(data={**(item.data or {}), **fix})
        _close(incident, IncidentState.RETRYING, note, actor, fix)
        transaction.on_commit(lambda pk=str(incident.work_item_id): tasks.run_automated_item.delay(pk))

    incident = _act(incident_id, "retry", retry)
    logger.info("incident %s: %s", incident.id, note, extra={"case_id": str(incident.case_id)})
    return incident


def skip_incident(incident_id: Any, data: Any = None, *, actor: Any = None) -> Incident:
    """Complete the work item with `data` as its output, as if the connector had returned it."""
    from cases import services

    output = _object(data, "Skip data")

    def skip(incident: Incident) -> None:
        services.complete_work_item(incident.work_item_id, output, actor=actor)
        _close(incident, IncidentState.SKIPPED, f"skipped with data {sorted(output)}", actor, output)

    incident = _act(incident_id, "skip", skip)
    logger.info("incident %s skipped", incident.id, extra={"case_id": str(incident.case_id)})
    return incident


def cancel_incident(incident_id: Any, *, actor: Any = None) -> Incident:
    """Give up: cancel the incident's case."""
    from cases import services

    def cancel(incident: Incident) -> None:
        services.cancel_case(incident.case_id, actor=actor)
        _close(incident, IncidentState.CANCELLED, "case cancelled", actor)

    incident = _act(incident_id, "cancel", cancel)
    logger.info("incident %s: case cancelled", incident.id, extra={"case_id": str(incident.case_id)})
    return incident
