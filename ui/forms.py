"""Forms of the UI pages: upload, case filters, case start data, work item output, audit filters."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from cases.models import CaseState
from knhk.api.limits import MAX_DATA_DEPTH, has_nul, has_surrogate, json_depth

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class UploadForm(forms.Form):
    """A YAWL (.yawl/.xml) or JSON (.json) specification file."""

    file = forms.FileField(label="Specification file", help_text="A YAWL file (.yawl, .xml) or a JSON spec (.json).")

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".yawl", ".xml", ".json")):
            raise forms.ValidationError("Choose a .yawl, .xml or .json file.")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB.")
        return upload


class CaseFilterForm(forms.Form):
    workflow = forms.ChoiceField(required=False, label="Workflow")
    version = forms.IntegerField(required=False, min_value=1, label="Version")
    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *CaseState.choices], label="State")

    def __init__(self, *args: Any, workflow_ids: list[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workflow"].choices = [("", "Any workflow"), *((spec_id, spec_id) for spec_id in workflow_ids)]


class NotJson(ValueError):
    """The text is not JSON at all (a syntax error)."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def parse_json(text: str, *, limit: int = MAX_DATA_DEPTH) -> Any:
    """Strict JSON with the API's limits (`knhk.api.limits`): no NaN/Infinity, at most `limit` levels
    of nesting, no NUL characters, no integer too long for Python to read.

    Raises ValueError with a message for the user; never RecursionError.
    """
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise NotJson(f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).") from None
    except RecursionError:
        raise ValueError(f"Nested deeper than {limit} levels (objects and arrays).") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of more than 4300 digits
        reason = str(exc) if "JSON value" in str(exc) else "a number has too many digits"
        raise ValueError(f"Not valid JSON: {reason}.") from None
    if _has_infinite(data):
        raise ValueError("Not valid JSON: a number is too large (Infinity is not a JSON value).")
    if json_depth(data, stop_after=limit) > limit:
        raise ValueError(f"Nested deeper than {limit} levels (objects and arrays).")
    if has_nul(data):
        raise ValueError("Text may not contain NUL characters (\\u0000).")
    if has_surrogate(data):
        raise ValueError("Text may not contain lone UTF-16 surrogates (\\ud800-\\udfff).")
    return data


def _has_infinite(value: Any) -> bool:
    """Whether a parsed value holds a float that overflowed to infinity (e.g. 1e999)."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, float):
            if current in (float("inf"), float("-inf")):
                return True
        elif isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return False


class JsonObjectField(forms.CharField):
    """A textarea holding a JSON object (empty = {})."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false"})

    def to_python(self, value: Any) -> dict[str, Any]:
        text = (value or "").strip()
        if not text:
            return {}
        try:
            data = parse_json(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not isinstance(data, dict):
            raise forms.ValidationError('Case data must be a JSON object, e.g. {"amount": 100}.')
        return data


class StartCaseForm(forms.Form):
    data = JsonObjectField(required=False, label="Case data (JSON object, optional)")


_NUMERIC = {"integer", "xs:int", "xs:integer", "xs:long", "xs:short", "xs:nonNegativeInteger",
            "xs:positiveInteger"}  # fmt: skip
_DECIMAL = {"number", "xs:decimal", "xs:double", "xs:float"}
_BOOLEAN = {"boolean", "xs:boolean"}
_STRUCTURED = {"object", "array", "any"}


class AnyJsonField(forms.CharField):
    """A value of an object, array or any type, typed as JSON (plain text is kept as a string)."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def __init__(self, *, expected: str, **kwargs: Any) -> None:
        self.expected = expected
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = (value or "").strip()
        if not text:
            return None
        try:
            data = parse_json(text, limit=MAX_DATA_DEPTH - 1)  # one level down inside the output object
        except NotJson as exc:
            if self.expected == "any":
                return text  # plain text is a string
            raise forms.ValidationError(str(exc)) from None
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if self.expected == "object" and not isinstance(data, dict):
            raise forms.ValidationError("Must be a JSON object.")
        if self.expected == "array" and not isinstance(data, list):
            raise forms.ValidationError("Must be a JSON array.")
        return data


def output_field(param: dict[str, Any]) -> forms.Field:
    """The form field of one declared task output (`{"name", "type", "required"}`)."""
    kind = param.get("type", "any")
    label = param["name"].replace("_", " ")
    required = bool(param.get("required", False))
    help_text = f"Type {kind}" + (", required" if required else ", optional")
    if kind in _BOOLEAN:
        return forms.TypedChoiceField(
            label=label, required=required, help_text=help_text,
            choices=[("", "—"), ("true", "Yes"), ("false", "No")],
            coerce=lambda value: value == "true", empty_value=None,
        )  # fmt: skip
    if kind in _NUMERIC:
        return forms.IntegerField(label=label, required=required, help_text=help_text)
    if kind in _DECIMAL:
        return forms.FloatField(label=label, required=required, help_text=help_text)
    if kind in _STRUCTURED:
        return AnyJsonField(expected=kind, label=label, required=required, help_text=help_text)
    return forms.CharField(label=label, required=required, help_text=help_text, max_length=10_000)


class OutputForm(forms.Form):
    """Completion data from the task's declared outputs; with none declared, a free JSON object."""

    def __init__(self, outputs: list[dict[str, Any]] | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.free_form = outputs is None
        if self.free_form:
            self.fields["data"] = JsonObjectField(required=False, label="Output data (JSON object)")
        else:
            for param in outputs:
                self.fields[f"out_{param['name']}"] = output_field(param)

    def output_data(self) -> dict[str, Any]:
        """The cleaned values by output name; empty optional fields are left out."""
        if self.free_form:
            return self.cleaned_data["data"]
        return {
            name.removeprefix("out_"): value
            for name, value in self.cleaned_data.items()
            if value is not None and value != ""
        }


class AuditFilterForm(forms.Form):
    """The audit review's filters (the same names as the API's and the export's query parameters)."""

    actor = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64, help_text="Exact, or a prefix such as item.*")
    outcome = forms.ChoiceField(required=False, choices=[("", "Any"), ("success", "Success"),
                                                         ("failure", "Failure"), ("denied", "Denied")])
    workflow = forms.CharField(required=False, max_length=100, label="Workflow id")
    case = forms.CharField(required=False, max_length=64, label="Case id")
    since = forms.DateTimeField(required=False, help_text="From (UTC), e.g. 2026-01-31 08:00",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = forms.DateTimeField(required=False, help_text="Before (UTC)",
                                widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise forms.ValidationError("'Since' must be before 'until'.")
        return data

    def selector_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of `audit.selectors.audit_records`."""
        data = self.cleaned_data
        return {
            "actor": data.get("actor") or None,
            "action": data.get("action") or None,
            "outcome": data.get("outcome") or None,
            "workflow_id": data.get("workflow") or None,
            "case_id": data.get("case") or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }
