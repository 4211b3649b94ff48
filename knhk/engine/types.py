"""Declared data types: the one table that says which values a type accepts and its empty value.

Used by the runtime (case start data, completion data, added MI instances), by `verify` (initial
values), by the simulator (defaults for missing inputs) and by expressions (typing XML text).

JSON type names (string, integer, number, boolean, object, array, any) are strict. XML Schema names
(`xs:int`, ...) are lenient as YAWL is, since YAWL data is text: a value is accepted when its text is
a valid lexical form of the type ("true" for xs:boolean, "42" for xs:int). `null` is no value of any
type but `any` (leave an optional field out instead). Qualified names outside the table (a user's
schema type) accept anything.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date
from functools import lru_cache
from typing import Any, NamedTuple

__all__ = ["VARIABLE_TYPES", "TypeRule", "type_rule", "value_problem", "fields_problem", "type_default",
           "simple_kind", "type_problem", "XSD_RULES", "JSON_RULES", "MAX_INTEGER_DIGITS"]  # fmt: skip

VARIABLE_TYPES = ("string", "integer", "number", "boolean", "object", "array", "any")
XSD_PREFIXES = ("xs", "xsd")
MAX_INTEGER_DIGITS = 4300  # Python's int-conversion limit: longer integer text is no value of any type

_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*").fullmatch
_DECIMAL_TEXT = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*").fullmatch
_DOUBLE_TEXT = re.compile(r"\s*([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN)\s*").fullmatch
_ZONE = r"(Z|[+-]\d{2}:\d{2})?"
_DATE = r"-?(\d{4,})-(\d{2})-(\d{2})"
_TIME = r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
_DATE_TEXT = re.compile(_DATE + _ZONE).fullmatch
_TIME_TEXT = re.compile(_TIME + _ZONE).fullmatch
_DATETIME_TEXT = re.compile(_DATE + "T" + _TIME + _ZONE).fullmatch
_DURATION_TEXT = re.compile(
    r"-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
).fullmatch


def _is_int(value: Any) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _is_number(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def _valid_date(year: str, month: str, day: str) -> bool:
    try:
        date(int(year) if 1 <= int(year) <= 9999 else 2000, int(month), int(day))
    except ValueError:
        return False
    return True


def _valid_time(hour: str, minute: str, second: str) -> bool:
    return (int(hour) < 24 and int(minute) < 60 and int(second) < 60) or f"{hour}{minute}{second}" == "240000"


def _date_text(value: Any) -> bool:
    match = isinstance(value, str) and _DATE_TEXT(value.strip())
    return bool(match) and _valid_date(*match.groups()[:3])


def _time_text(value: Any) -> bool:
    match = isinstance(value, str) and _TIME_TEXT(value.strip())
    return bool(match) and _valid_time(*match.groups()[:3])


def _datetime_text(value: Any) -> bool:
    match = isinstance(value, str) and _DATETIME_TEXT(value.strip())
    return bool(match) and _valid_date(*match.groups()[:3]) and _valid_time(*match.groups()[3:6])


def _integer_digits(value: Any) -> str | None:
    """The significant digits of integer text ("-007" -> "7", "0" -> ""), None for anything else."""
    if not (isinstance(value, str) and _INTEGER_TEXT(value)):
        return None
    return value.strip().lstrip("+-").lstrip("0")


def _xs_integer(value: Any, max_digits: int = MAX_INTEGER_DIGITS) -> int | None:
    """The whole number a value stands for (42, 42.0, "42"), else None (also for text of more than
    `max_digits` digits, which is never converted)."""
    if _is_int(value):
        return int(value)
    digits = _integer_digits(value)
    if digits is None or len(digits) > max_digits:
        return None
    number = int(digits or "0")
    return -number if value.strip().startswith("-") else number


class TypeRule(NamedTuple):
    """How a type's values look: `kind` (for expressions: int, number, bool or None), `accepts`,
    the `hint` a message shows, the type's empty `default` and, for integer types, the most `digits`
    its text may have."""

    kind: str | None
    accepts: Any  # Callable[[Any], bool]
    hint: str
    default: Any
    digits: int | None = None


def _integer_rule(low: int | None, high: int | None) -> TypeRule:
    digits = MAX_INTEGER_DIGITS if low is None or high is None else len(str(max(-low, high)))

    def accepts(value: Any) -> bool:
        number = _xs_integer(value, digits)
        return number is not None and (low is None or number >= low) and (high is None or number <= high)

    if low is None and high is None:
        hint = "a whole number"
    elif high is None:
        hint = f"a whole number of at least {low}"
    elif low is None:
        hint = f"a whole number of at most {high}"
    else:
        hint = f"a whole number from {low} to {high}"
    default = (
        0 if (low is None or low <= 0) and (high is None or high >= 0) else (low if low is not None else high)
    )
    return TypeRule("int", accepts, hint, default, digits)


def _text(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


_ANY = TypeRule(None, lambda value: True, "any value", None)
_TEXT = TypeRule(None, _text, "text", "")

JSON_RULES: dict[str, TypeRule] = {
    "string": TypeRule(None, lambda v: isinstance(v, str), "a string", ""),
    "integer": TypeRule("int", _is_int, "a whole number", 0),
    "number": TypeRule("number", _is_number, "a number", 0),
    "boolean": TypeRule("bool", lambda v: isinstance(v, bool), "true or false", False),
    "object": TypeRule(None, lambda v: isinstance(v, dict), "a JSON object", {}),
    "array": TypeRule(None, lambda v: isinstance(v, list), "a JSON array", []),
    "any": _ANY,
}

# XML Schema built-in types by local name (the names YAWL declares after "xs:")
XSD_RULES: dict[str, TypeRule] = {
    **{name: _TEXT for name in ("string", "normalizedString", "token", "language", "Name", "NCName", "ID",
                                "IDREF", "ENTITY", "NMTOKEN", "anyURI", "QName", "gYear", "gYearMonth",
                                "gMonth", "gMonthDay", "gDay", "base64Binary", "hexBinary")},
    "boolean": TypeRule(
        "bool", lambda v: isinstance(v, bool) or v in (0, 1) or (isinstance(v, str) and v.strip() in
                                                                 ("true", "false", "1", "0")),
        "true, false, 1 or 0", False,
    ),
    "decimal": TypeRule("number", lambda v: _is_number(v) or (isinstance(v, str) and bool(_DECIMAL_TEXT(v))),
                        "a decimal number", 0),
    "double": TypeRule("number", lambda v: _is_number(v) or (isinstance(v, str) and bool(_DOUBLE_TEXT(v))),
                       "a number", 0),
    "float": TypeRule("number", lambda v: _is_number(v) or (isinstance(v, str) and bool(_DOUBLE_TEXT(v))),
                      "a number", 0),
    "integer": _integer_rule(None, None),
    "int": _integer_rule(-(2**31), 2**31 - 1),
    "long": _integer_rule(-(2**63), 2**63 - 1),
    "short": _integer_rule(-(2**15), 2**15 - 1),
    "byte": _integer_rule(-128, 127),
    "nonNegativeInteger": _integer_rule(0, None),
    "positiveInteger": _integer_rule(1, None),
    "nonPositiveInteger": _integer_rule(None, 0),
    "negativeInteger": _integer_rule(None, -1),
    "unsignedLong": _integer_rule(0, 2**64 - 1),
    "unsignedInt": _integer_rule(0, 2**32 - 1),
    "unsignedShort": _integer_rule(0, 2**16 - 1),
    "unsignedByte": _integer_rule(0, 255),
    "date": TypeRule(None, _date_text, "a date YYYY-MM-DD", "1970-01-01"),
    "time": TypeRule(None, _time_text, "a time hh:mm:ss", "00:00:00"),
    "dateTime": TypeRule(None, _datetime_text, "a date-time YYYY-MM-DDThh:mm:ss", "1970-01-01T00:00:00"),
    "duration": TypeRule(None, lambda v: isinstance(v, str) and bool(_DURATION_TEXT(v.strip())),
                         "a duration such as PT30M", "PT0S"),
    "anyType": _ANY,
    "anySimpleType": _ANY,
}  # fmt: skip
_XSD_BY_LOWER = {name.lower(): rule for name, rule in XSD_RULES.items()}


@lru_cache(maxsize=1024)
def type_rule(type_name: str | None) -> TypeRule:
    """The rule of a declared type name (unknown or missing: any value)."""
    if not type_name:
        return _ANY
    if type_name in JSON_RULES:
        return JSON_RULES[type_name]
    prefix, _, local = type_name.rpartition(":")
    if prefix in XSD_PREFIXES:
        return XSD_RULES.get(local) or _XSD_BY_LOWER.get(local.lower(), _ANY)
    return _ANY


def simple_kind(type_name: str | None) -> str | None:
    """ "int", "number" or "bool" for a type whose XML text expressions read as such, else None."""
    return type_rule(type_name).kind


def type_default(type_name: str | None) -> Any:
    """The empty value of a declared type (a fresh copy): "" for text, 0, false, {}, [], None for any."""
    default = type_rule(type_name).default
    return type(default)() if isinstance(default, (dict, list)) else default


def _render(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except ValueError:  # an int beyond the int-conversion limit
        return "a value too large to show"
    return text if len(text) <= 80 else text[:77] + "..."


def value_problem(what: str, type_name: str | None, value: Any) -> str | None:
    """None when `value` is of the type, else "<what> must be <type> (<hint>), got <value>" (integer
    text longer than the type allows: "<what> is not a valid <type> (too many digits: N, at most M)")."""
    rule = type_rule(type_name)
    if rule is _ANY or (value is not None and rule.accepts(value)):
        return None
    digits = len(_integer_digits(value) or "")
    if rule.digits is not None and digits > rule.digits:
        return f"{what} is not a valid {type_name} (too many digits: {digits}, at most {rule.digits})"
    return f"{what} must be {type_name} ({rule.hint}), got {_render(value)}"


def type_problem(what: str, type_name: str) -> str | None:
    """None for a known type name (or a user schema type outside xs:), else a message listing the
    known types."""
    prefix, _, local = type_name.rpartition(":")
    if not prefix or prefix not in XSD_PREFIXES or local.lower() in _XSD_BY_LOWER:
        return None
    known = ", ".join([*VARIABLE_TYPES, *(f"{prefix}:{name}" for name in XSD_RULES)])
    return f"{what} has unknown type {type_name!r} (known types: {known})"


def fields_problem(data: dict[str, Any], declared: dict[str, str], what: str) -> str | None:
    """None when every field of `data` is declared and of its declared type, else a message naming the
    unknown fields (and what is declared) or the first badly typed field."""
    unknown = [name for name in data if name not in declared]
    if unknown:
        names = ", ".join(repr(name) for name in unknown)
        known = ", ".join(repr(name) for name in declared) or "none"
        return f"unknown {what} {names} (declared: {known})"
    for name, value in data.items():
        problem = value_problem(f"{what} {name!r}", declared[name], value)
        if problem is not None:
            return problem
    return None
