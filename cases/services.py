"""Writes for cases and work items: every engine step goes through here.

One step = lock the case row (select_for_update), restore the engine case from its stored state,
call the engine, drain its events, then write the new state, the touched work item rows and the
events with bulk operations, and enqueue follow-up Celery work (automated items, timers) on commit.
A human request applies its step synchronously, so a 2xx answer means the step is committed.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_duration

from audit.services import AuditEntry, entries_for_events, record_many
from cases.models import LIVE_ITEM_STATES, Case, CaseEvent, CaseState, WorkItem, WorkItemState
from knhk.api.errors import ApiError, BadRequest, Conflict, NotFound
from knhk.observability import engine_events, hot_path, operation, task_pattern
from workflows.models import WorkflowSpec

logger = logging.getLogger("knhk.cases")

__all__ = [
    "StepResult",
    "start_case",
    "start_work_item",
    "complete_work_item",
    "fail_work_item",
    "cancel_case",
    "suspend_case",
    "resume_case",
    "fire_timer",
    "pending_timer",
    "advance_case",
    "begin_automated_item",
    "executor_for",
    "task_definition",
]

ITEM_EVENT_STATES = {
    "item_enabled": WorkItemState.ENABLED,
    "item_started": WorkItemState.STARTED,
    "item_completed": WorkItemState.COMPLETED,
    "item_withdrawn": WorkItemState.WITHDRAWN,
    "item_cancelled": WorkItemState.CANCELLED,
    "item_failed": WorkItemState.FAILED,
}
FINISHED_CASE_STATES = {CaseState.COMPLETED, CaseState.CANCELLED, CaseState.FAILED, CaseState.DEADLOCKED}
ITEM_UPDATE_FIELDS = [
    "state", "kind", "task_name", "roles", "data", "parent_engine_id", "started_by", "completed_by",
    "started_at", "completed_at", "timer_due_at",
]  # fmt: skip
CASE_UPDATE_FIELDS = ["state", "data", "engine_state", "marking", "event_seq", "updated_at", "completed_at"]


@dataclass
class StepResult:
    """The case after a step and the work item rows the step created or changed."""

    case: Case
    items: list[WorkItem]

    def item(self, item_id: uuid.UUID) -> WorkItem | None:
        return next((row for row in self.items if row.id == item_id), None)


# --------------------------------------------------------------------------- engine access


def executor_for(spec: WorkflowSpec) -> Any:
    """The compiled executor of a spec version (parsed, verified and compiled once per process)."""
    from knhk.engine import SpecError, SpecInvalid, get_executor

    try:
        return get_executor(spec.spec, version=spec.version, content_hash=spec.content_hash)
    except (SpecError, SpecInvalid) as exc:
        raise Conflict(f"Workflow {spec.spec_id!r} version {spec.version} no longer verifies: {exc}",
                       code="invalid_spec") from exc


def _engine_call(call: Callable[..., Any], *args: Any) -> Any:
    """Call the engine; its EngineError becomes the matching API error."""
    from knhk.engine import EngineError

    try:
        with hot_path():
            return call(*args)
    except EngineError as exc:
        code = getattr(exc, "code", "invalid")
        error_class = {"conflict": Conflict, "not_found": NotFound}.get(code, BadRequest)
        raise error_class(str(exc), code=code if code in ("conflict", "not_found") else "invalid") from exc


_TASK_INDEX: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}


def task_definition(spec: WorkflowSpec, net_id: str, task_id: str) -> dict[str, Any]:
    """The task's JSON definition in the spec (empty dict when unknown)."""
    index = _TASK_INDEX.get(spec.content_hash)
    if index is None:
        document = spec.spec
        root_id = document.get("root_net") or document.get("id")
        nets = [{"id": root_id, "tasks": document.get("tasks", [])}, *document.get("nets", [])]
        index = {(net["id"], task["id"]): task for net in nets for task in net.get("tasks", [])}
        _TASK_INDEX[spec.content_hash] = index
    return index.get((net_id, task_id)) or next(
        (task for (_, tid), task in index.items() if tid == task_id), {}
    )


# --------------------------------------------------------------------------- persistence of one step


def _timer_due(payload: dict[str, Any], now: datetime) -> datetime | None:
    """When a timer_set event's timer fires: an absolute expiry or a duration from now."""
    for key in ("expiry", "due", "at", "deadline", "expires_at"):
        value = payload.get(key)
        if isinstance(value, str) and (moment := parse_datetime(value.replace("Z", "+00:00"))):
            return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=UTC)
    for key in ("seconds", "delay", "duration_seconds"):
        if isinstance(payload.get(key), (int, float)):
            return now + timedelta(seconds=payload[key])
    duration = payload.get("duration")
    if isinstance(duration, str) and (delta := _iso_duration(duration)) is not None:
        return now + delta
    return None


def _iso_duration(text: str) -> timedelta | None:
    """An ISO 8601 duration (PnDTnHnMnS, also weeks, months as 30 days and years as 365 days)."""
    parsed = parse_duration(text)
    if parsed is not None:
        return parsed
    match = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?", text)
    if not match:
        return None
    years, months, weeks, days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=years * 365 + months * 30 + weeks * 7 + days, hours=hours, minutes=minutes,
                     seconds=seconds)


def _sync_items(
    case: Case,
    engine_case: Any,
    events: list[Any],
    live: dict[str, WorkItem],
    *,
    actor: Any,
    acting_item: str | None,
    output: dict[str, Any] | None,
    now: datetime,
) -> tuple[list[WorkItem], list[WorkItem]]:
    """Apply item events to rows: (new rows, changed existing rows)."""
    touched: dict[str, WorkItem] = {}
    created: set[str] = set()
    for event in events:
        state = ITEM_EVENT_STATES.get(event.kind)
        if event.kind == "timer_set" and event.item_id:
            row = touched.get(event.item_id) or live.get(event.item_id)
            if row is not None:
                row.timer_due_at = _timer_due(event.payload or {}, now)
                touched[event.item_id] = row
            continue
        if state is None or not event.item_id:
            continue
        row = touched.get(event.item_id) or live.get(event.item_id)
        if row is None:
            row = WorkItem(
                id=uuid.uuid4(), case=case, engine_id=event.item_id, task_id=event.task_id or "",
                net_id=event.net_id or "", enabled_at=now,
            )
            created.add(event.item_id)
        touched[event.item_id] = row
        row.state = state
        mine = event.item_id == acting_item
        if state == WorkItemState.STARTED:
            row.started_at = now
            row.started_by = actor if mine else row.started_by
        elif state != WorkItemState.ENABLED:
            row.completed_at = now
            row.timer_due_at = None
            if state == WorkItemState.COMPLETED and mine:
                row.completed_by = actor
                if output is not None:
                    row.data = output
    # timer_set can come before the item's enabling event in one step: apply it afterwards too
    for event in events:
        if event.kind == "timer_set" and event.item_id in touched and event.item_id in created:
            touched[event.item_id].timer_due_at = _timer_due(event.payload or {}, now)
    engine_items = engine_case.items
    for engine_id, row in touched.items():
        item = engine_items.get(engine_id)
        if item is None:
            continue
        row.kind = getattr(item, "kind", row.kind) or row.kind
        row.roles = list(getattr(item, "roles", ()) or ())
        row.parent_engine_id = getattr(item, "parent", None) or ""
        row.task_name = task_definition(case.spec, row.net_id, row.task_id).get("name") or ""
        if row.state in LIVE_ITEM_STATES:
            row.state = getattr(item, "state", row.state)
            if row.state == WorkItemState.ENABLED or not row.data:
                row.data = dict(getattr(item, "data", None) or {})
    new_rows = [touched[engine_id] for engine_id in touched if engine_id in created]
    changed_rows = [row for engine_id, row in touched.items() if engine_id not in created]
    return new_rows, changed_rows


def _write_case_state(case: Case, engine_case: Any, now: datetime) -> None:
    case.state = engine_case.status
    case.data = engine_case.data
    case.engine_state = engine_case.to_state(root_data=False)  # the root data is the `data` column
    case.marking = engine_case.marking()
    case.updated_at = now
    if case.state in FINISHED_CASE_STATES and case.completed_at is None:
        case.completed_at = now


def _event_rows(case: Case, events: Iterable[Any], actor_name: str, acting_item: str | None, now: datetime,
                first_seq: int) -> list[CaseEvent]:
    return [
        CaseEvent(
            case=case, seq=first_seq + index, kind=event.kind, task_id=event.task_id or "",
            net_id=event.net_id or "", item_engine_id=event.item_id or "",
            payload=event.payload or {},
            actor=actor_name if (event.item_id is None or event.item_id == acting_item) else "",
            at=now,
        )
        for index, event in enumerate(events)
    ]


def _actor_name(actor: Any) -> str:
    return getattr(actor, "username", "") or "" if actor is not None and getattr(actor, "is_authenticated", False) \
        else ""


def _user_or_none(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _enqueue_follow_ups(case: Case, rows: Iterable[WorkItem], engine_items: dict[str, Any]) -> None:
    """Automated items and timers go to Celery once the step is committed. An automated item whose
    timer runs from its enabling is a timed task (YAWL): its timer's expiry completes it, no
    connector runs before."""
    from cases import tasks

    for row in rows:
        if (
            row.state == WorkItemState.ENABLED
            and row.kind == "automated"
            and getattr(engine_items.get(row.engine_id), "timer", None) is None  # timed: its timer decides
        ):
            transaction.on_commit(lambda pk=row.id: tasks.run_automated_item.delay(str(pk)))
        if row.state in LIVE_ITEM_STATES and row.timer_due_at is not None:
            transaction.on_commit(
                lambda c=case.id, e=row.engine_id, due=row.timer_due_at: tasks.schedule_timer(str(c), e, due)
            )


def _persist_step(
    case: Case,
    engine_case: Any,
    live: dict[str, WorkItem],
    *,
    actor: Any = None,
    acting_item: str | None = None,
    output: dict[str, Any] | None = None,
    new_case: bool = False,
) -> StepResult:
    """Write one step: case row, work item rows (bulk), events (bulk), follow-ups on commit."""
    now = timezone.now()
    events = list(engine_case.drain_events())
    engine_events(events, lambda net, task: task_definition(case.spec, net, task), workflow_id=case.spec.spec_id)
    user = _user_or_none(actor)
    new_rows, changed_rows = _sync_items(
        case, engine_case, events, live, actor=user, acting_item=acting_item, output=output, now=now
    )
    first_seq = case.event_seq + 1
    _write_case_state(case, engine_case, now)
    case.event_seq += len(events)
    if new_case:
        case.created_at = now
        case.save(force_insert=True)
    else:
        Case.objects.filter(pk=case.pk).update(**{name: getattr(case, name) for name in CASE_UPDATE_FIELDS})
    if new_rows:
        WorkItem.objects.bulk_create(new_rows)
    if changed_rows:
        WorkItem.objects.bulk_update(changed_rows, ITEM_UPDATE_FIELDS)
    if events:
        CaseEvent.objects.bulk_create(_event_rows(case, events, _actor_name(actor), acting_item, now, first_seq))
    _audit_step(case, events, actor=actor, acting_item=acting_item, output=output, new_case=new_case, now=now)
    rows = new_rows + changed_rows
    _enqueue_follow_ups(case, rows, engine_case.items)
    return StepResult(case, rows)


def _audit_step(case: Case, events: list[Any], *, actor: Any, acting_item: str | None,
                output: dict[str, Any] | None, new_case: bool, now: datetime) -> None:
    """One audit record per engine event (plus `case.created`), in the step's transaction, one INSERT."""
    entries = entries_for_events(events, workflow_id=case.spec.spec_id, case_id=case.id, actor=actor,
                                 acting_item=acting_item, output=output)
    if new_case:
        entries.insert(0, AuditEntry("case.created", actor=actor, workflow_id=case.spec.spec_id,
                                     case_id=str(case.id), data={"version": case.spec.version, "data": case.data}))
    record_many(entries, at=now)


# --------------------------------------------------------------------------- steps


def start_case(spec_id: str, data: dict[str, Any] | None = None, *, version: int | None = None,
               actor: Any = None) -> StepResult:
    """Create a case of the spec's latest (or given) version; its first work items are enabled."""
    if data is not None and not isinstance(data, dict):
        raise BadRequest("Case data must be a JSON object.", details={"data": ["Must be an object."]})
    specs = WorkflowSpec.objects.filter(spec_id=spec_id)
    spec = (specs.filter(version=version) if version is not None else specs.order_by("-version")).first()
    if spec is None:
        suffix = f" version {version}" if version is not None else ""
        raise NotFound(f"No workflow {spec_id!r}{suffix}.")
    executor = executor_for(spec)
    case_id = uuid.uuid4()
    with operation("case.start", workflow_id=spec.spec_id, case_id=case_id):
        engine_case = _engine_call(executor.start_case, str(case_id), dict(data or {}))
        case = Case(id=case_id, spec=spec, created_by=_user_or_none(actor))
        with transaction.atomic():
            return _persist_step(case, engine_case, {}, actor=actor, new_case=True)


def _lock_case(*, case_id: Any = None, item_id: Any = None) -> Case:
    """The case row, locked until the transaction ends (one query, spec joined)."""
    queryset = Case.objects.select_related("spec").select_for_update(of=("self",))
    try:
        if item_id is not None:
            return queryset.get(work_items__id=item_id)
        return queryset.get(pk=case_id)
    except (Case.DoesNotExist, ValueError):
        raise NotFound(f"No work item {item_id}." if item_id is not None else f"No case {case_id}.") from None


def _live_rows(case: Case) -> dict[str, WorkItem]:
    """The case's live item rows, each with `row.case` already set to `case` (no query to reach it)."""
    return {row.engine_id: row for row in case.work_items.filter(state__in=LIVE_ITEM_STATES)}


def _require_running(case: Case, action: str) -> None:
    if case.state != CaseState.RUNNING:
        raise Conflict(f"Cannot {action}: case {case.id} is {case.state}.",
                       details={"case_id": str(case.id), "case_state": case.state})


def _step_on_item(item_id: Any, action: str, call: Callable[[Any, WorkItem], None], *, actor: Any = None,
                  allowed_states: tuple[str, ...] = LIVE_ITEM_STATES, output: dict[str, Any] | None = None,
                  by_person: bool = False) -> StepResult:
    """Lock the item's case, check the item, run one engine call on it and persist the step."""
    with transaction.atomic():
        case = _lock_case(item_id=item_id)
        live = _live_rows(case)
        row = next((r for r in live.values() if r.id == as_uuid(item_id)), None)
        if row is None:
            state = WorkItem.objects.filter(pk=item_id).values_list("state", flat=True).first()
            raise Conflict(f"Cannot {action} work item {item_id}: it is {state}.",
                           details={"work_item_id": str(item_id), "state": state})
        _require_running(case, f"{action} work item {item_id}")
        if row.state not in allowed_states:
            raise Conflict(f"Cannot {action} work item {item_id}: it is {row.state}.",
                           details={"work_item_id": str(item_id), "state": row.state})
        if by_person and row.kind == "automated":
            raise Conflict(f"Cannot {action} work item {item_id}: it is automated; a worker runs it.",
                           details={"work_item_id": str(item_id), "kind": row.kind})
        engine_case = executor_for(case.spec).restore(case.engine_state, root_data=case.data)
        with operation(f"work_item.{action}", workflow_id=case.spec.spec_id, case_id=case.id, task_id=row.task_id,
                       pattern=task_pattern(task_definition(case.spec, row.net_id, row.task_id))):
            _engine_call(call, engine_case, row)
            return _persist_step(case, engine_case, live, actor=actor, acting_item=row.engine_id, output=output)


def as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def start_work_item(item_id: Any, *, actor: Any = None, by_person: bool = False) -> StepResult:
    """Start an enabled work item; `by_person` refuses automated items (workers run those)."""
    return _step_on_item(item_id, "start", lambda case, row: case.start(row.engine_id), actor=actor,
                         allowed_states=(WorkItemState.ENABLED,), by_person=by_person)


def complete_work_item(item_id: Any, data: dict[str, Any] | None = None, *, actor: Any = None,
                       by_person: bool = False) -> StepResult:
    """Complete a work item with output data (an enabled item is started first); the case advances.

    `by_person` (an API request) refuses automated items: their connector's worker completes them.
    """
    output = dict(data or {})

    def complete(engine_case: Any, row: WorkItem) -> None:
        if row.state == WorkItemState.ENABLED:
            engine_case.start(row.engine_id)
        engine_case.complete(row.engine_id, output)

    return _step_on_item(item_id, "complete", complete, actor=actor, output=output, by_person=by_person)


def fail_work_item(item_id: Any, reason: str) -> StepResult:
    """An automated item whose connector failed for good."""
    return _step_on_item(item_id, "fail", lambda case, row: case.fail(row.engine_id, reason))


def begin_automated_item(item_id: Any) -> WorkItem | None:
    """Start an automated item for a worker; None when it is no longer live or its case is not running."""
    try:
        result = _step_on_item(item_id, "start", lambda case, row: case.start(row.engine_id),
                               allowed_states=(WorkItemState.ENABLED,))
    except Conflict:
        row = WorkItem.objects.select_related("case__spec").filter(pk=item_id).first()
        if row is not None and row.state == WorkItemState.STARTED and row.case.state == CaseState.RUNNING:
            return row  # started before a worker crash: run it again (at-least-once)
        return None
    except NotFound:
        return None
    row = result.item(as_uuid(item_id))
    if row is not None:
        row.case = result.case
    return row


def _case_step(case_id: Any, check: Callable[[Case], None], call: Callable[[Any], None], *,
               actor: Any = None) -> StepResult:
    with transaction.atomic():
        case = _lock_case(case_id=case_id)
        check(case)
        live = _live_rows(case)
        engine_case = executor_for(case.spec).restore(case.engine_state, root_data=case.data)
        with operation("case.step", workflow_id=case.spec.spec_id, case_id=case.id):
            _engine_call(call, engine_case)
            return _persist_step(case, engine_case, live, actor=actor)


def _require_state(*states: str, action: str) -> Callable[[Case], None]:
    def check(case: Case) -> None:
        if case.state not in states:
            raise Conflict(f"Cannot {action} case {case.id}: it is {case.state}.",
                           details={"case_id": str(case.id), "case_state": case.state})

    return check


def cancel_case(case_id: Any, *, actor: Any = None) -> StepResult:
    return _case_step(case_id, _require_state(CaseState.RUNNING, CaseState.SUSPENDED, action="cancel"),
                      lambda engine_case: engine_case.cancel(), actor=actor)


def suspend_case(case_id: Any, *, actor: Any = None) -> StepResult:
    return _case_step(case_id, _require_state(CaseState.RUNNING, action="suspend"),
                      lambda engine_case: engine_case.suspend(), actor=actor)


def resume_case(case_id: Any, *, actor: Any = None) -> StepResult:
    """Resume; automated items a worker skipped while suspended are queued again (not dead-lettered ones)."""
    from cases import tasks
    from incidents.models import UNRESOLVED_STATES

    with transaction.atomic():
        result = _case_step(case_id, _require_state(CaseState.SUSPENDED, action="resume"),
                            lambda engine_case: engine_case.resume(), actor=actor)
        automated = (WorkItem.objects.filter(case=result.case, kind="automated", state__in=LIVE_ITEM_STATES)
                     .exclude(incidents__state__in=UNRESOLVED_STATES))  # dead-lettered: the operator's call
        for pk in automated.values_list("pk", flat=True):
            transaction.on_commit(lambda pk=pk: tasks.run_automated_item.delay(str(pk)))
        return result


def advance_case(case_id: Any) -> StepResult | None:
    """Re-run a case from its stored state and persist whatever the engine does (idempotent)."""
    try:
        return _case_step(case_id, _require_state(CaseState.RUNNING, action="advance"), lambda engine_case: None)
    except (Conflict, NotFound):
        return None


def pending_timer(case_id: Any, engine_item_id: str) -> datetime | None:
    """When a live work item's timer is due (None: no such timer)."""
    return (
        WorkItem.objects.filter(case_id=case_id, engine_id=engine_item_id, state__in=LIVE_ITEM_STATES)
        .values_list("timer_due_at", flat=True).first()
    )


def fire_timer(case_id: Any, engine_item_id: str) -> StepResult | None:
    """A work item's timer expired: tell the engine, unless the item is gone or it is not yet due."""
    with transaction.atomic():
        try:
            case = _lock_case(case_id=case_id)
        except NotFound:
            return None
        live = _live_rows(case)
        row = live.get(engine_item_id)
        if row is None or case.state != CaseState.RUNNING:
            return None
        if row.timer_due_at is not None and row.timer_due_at > timezone.now() + timedelta(seconds=1):
            return None  # rescheduled or early delivery; the later schedule fires it
        engine_case = executor_for(case.spec).restore(case.engine_state, root_data=case.data)
        with operation("timer.fire", workflow_id=case.spec.spec_id, case_id=case.id, task_id=row.task_id):
            try:
                _engine_call(engine_case.timer_expired, engine_item_id)
            except ApiError as exc:
                logger.warning("timer of %s in case %s not applied: %s", engine_item_id, case_id, exc.detail)
                return None
            return _persist_step(case, engine_case, live)
