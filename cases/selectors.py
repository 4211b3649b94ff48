"""Reads for cases, work items and case history, shaped per endpoint (no N+1)."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from cases.models import LIVE_ITEM_STATES, Case, CaseEvent, WorkItem
from knhk.api.errors import NotFound

ITEM_RELATED = ("case__spec", "started_by", "completed_by")


def case_list(*, spec_id: str | None = None, state: str | None = None, version: int | None = None) -> QuerySet[Case]:
    queryset = Case.objects.select_related("spec").defer("engine_state", "data", "marking", "spec__spec")
    if spec_id:
        queryset = queryset.filter(spec__spec_id=spec_id)
    if version is not None:
        queryset = queryset.filter(spec__version=version)
    if state:
        queryset = queryset.filter(state=state)
    return queryset.order_by("-created_at", "id")


def case_detail(case_id: Any) -> Case:
    """A case with its live work items prefetched (as `live_items`)."""
    # the prefetch points each item at `case` itself: joining the case (its engine state and spec)
    # into every item row would grow with the square of the live items
    live = WorkItem.objects.filter(state__in=LIVE_ITEM_STATES).select_related("started_by", "completed_by")
    case = (
        Case.objects.select_related("spec").defer("engine_state", "spec__spec")
        .prefetch_related(Prefetch("work_items", queryset=live, to_attr="live_items"))
        .filter(pk=case_id).first()
    )
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


def case_history(case_id: Any) -> QuerySet[CaseEvent]:
    if not Case.objects.filter(pk=case_id).exists():
        raise NotFound(f"No case {case_id}.")
    return CaseEvent.objects.filter(case_id=case_id).order_by("seq")


def work_item_list(*, case_id: Any = None, state: str | None = None, task: str | None = None,
                   kind: str | None = None) -> QuerySet[WorkItem]:
    queryset = WorkItem.objects.select_related(*ITEM_RELATED).defer("case__engine_state", "case__data",
                                                                     "case__marking", "case__spec__spec")
    if case_id is not None:
        queryset = queryset.filter(case_id=case_id)
    if state:
        queryset = queryset.filter(state=state)
    if task:
        queryset = queryset.filter(task_id=task)
    if kind:
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("enabled_at", "id")


def work_item_detail(item_id: Any) -> WorkItem:
    row = WorkItem.objects.select_related(*ITEM_RELATED).defer("case__engine_state", "case__spec__spec") \
        .filter(pk=item_id).first()
    if row is None:
        raise NotFound(f"No work item {item_id}.")
    return row
