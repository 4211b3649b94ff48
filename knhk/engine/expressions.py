"""XPath 2.0 expressions over a net's data, compiled once per specification (elementpath).

A net's data is a JSON object. Expressions see it as an XML document: the root element is named
after the net, each variable is a child element, objects nest, and a list becomes repeated elements
of the same name. So `amount > 1000` and YAWL's `/Net/amount/text() > 1000` both work.

YAWL additions:
- XQuery direct element constructors, as YAWL mappings write them
  (`<name>{/Net/name/text()}</name>`, nested, with literal text and `if`/`for` inside the braces);
  the result is an element named by the tag. A constructor that references variables bound around
  it (`for $i in /Net/items/* return <item>{$i/text()}</item>`) is built where the XPath evaluates
  it, once per iteration with the variables bound; one that references none is built once, before.
- Root-name independence: YAWL names a data document after its net or decomposition (`/Overall/...`)
  and Beta files use `/data/...`. An expression whose absolute paths all start at one root name is
  evaluated as if the document's root element had that name.

Use `Expression.value()` (or `to_json_value`) to turn a result into a JSON value.

Budget: one evaluation may take at most `time_budget_ms()` (default 1000 ms, `configure` sets it)
and build ranges (`1 to N`) of at most MAX_RANGE_ITEMS items in all; beyond that it stops with
ExpressionError ("expression '...' exceeded its 1000 ms budget"), so a runaway `for` loop fails the
work item instead of holding a worker. The clock is read each time elementpath copies its dynamic
context (once per `for`/`some`/`every` iteration, per item a predicate filters, ...), never on
expressions without such loops.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from copy import copy
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from time import monotonic
from typing import Any
from xml.etree.ElementTree import Element

from elementpath import XPath2Parser, XPathContext, get_node_tree
from elementpath.datatypes import Integer
from elementpath.exceptions import ElementPathError
from elementpath.sequences import xlist

from knhk.engine.types import simple_kind

__all__ = [
    "Expression",
    "ExpressionError",
    "compile_expression",
    "net_document",
    "to_json_value",
    "element_to_json",
    "coerce_text",
    "root_names",
    "rename_root",
    "configure",
    "time_budget_ms",
    "MAX_RANGE_ITEMS",
]


class ExpressionError(ValueError):
    """An expression that does not parse, or fails when evaluated."""


# ---------------------------------------------------------------------------------------------
# Evaluation budget
# ---------------------------------------------------------------------------------------------

DEFAULT_TIME_BUDGET_MS = 1000
MAX_RANGE_ITEMS = 1_000_000  # items of all `to` ranges of one evaluation: ~36 MB, a bound on memory
_time_budget_ms = DEFAULT_TIME_BUDGET_MS


def configure(*, xpath_timeout_ms: int | None = None) -> None:
    """Engine-wide settings (process-wide; the platform passes its WORKFLOW_XPATH_TIMEOUT_MS at
    start-up): `xpath_timeout_ms`, the time one expression evaluation may take."""
    global _time_budget_ms
    if xpath_timeout_ms is not None:
        if isinstance(xpath_timeout_ms, bool) or not isinstance(xpath_timeout_ms, int) or xpath_timeout_ms < 1:
            raise ValueError(f"xpath_timeout_ms must be a positive integer, got {xpath_timeout_ms!r}")
        _time_budget_ms = xpath_timeout_ms


def time_budget_ms() -> int:
    """The time one evaluation may take, in milliseconds."""
    return _time_budget_ms


class _OverBudget(Exception):
    """Raised inside elementpath when an evaluation exceeds its budget (not an ElementPathError, so
    elementpath does not catch it); Expression.evaluate turns it into ExpressionError."""


class _Budget:
    """What is left of one evaluation's budget; shared by every copy of its context."""

    __slots__ = ("milliseconds", "deadline", "range_items")

    def __init__(self) -> None:
        self.milliseconds = _time_budget_ms
        self.deadline = monotonic() + self.milliseconds / 1000
        self.range_items = MAX_RANGE_ITEMS


class _Context(XPathContext):
    """An XPath dynamic context that checks the clock whenever elementpath copies it, which it does
    per iteration of `for`/`some`/`every` and per item of a predicate filter."""

    budget: _Budget

    def __copy__(self) -> XPathContext:
        if monotonic() > self.budget.deadline:
            raise _OverBudget(f"exceeded its {self.budget.milliseconds} ms budget")
        # XPathContext.__copy__ inlined (one Python call less per copy; its slots are pinned by a test)
        obj = object.__new__(_Context)
        obj.__dict__.update(self.__dict__)
        obj.document = self.document
        obj.root = self.root
        obj.item = self.item
        obj.size = self.size
        obj.position = self.position
        obj.axis = None
        obj.namespaces = self.namespaces
        obj.variables = self.variables
        return obj


# Tokens that iterate: an expression without any is evaluated in a plain context (no clock at all)
_LOOPING = frozenset(("for", "some", "every", "[", "to"))


def _loops(token: Any) -> bool:
    return any(tk.symbol in _LOOPING for tk in token.iter())


def _context(loops: bool, document: Any, variables: dict[str, Any] | None, budget: _Budget | None) -> XPathContext:
    if not loops or budget is None:
        return XPathContext(document, variables=variables)
    context = _Context(document, variables=variables)
    context.budget = budget
    return context


# ---------------------------------------------------------------------------------------------
# Source scanning: string literals, root names
# ---------------------------------------------------------------------------------------------

_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?")
# an absolute path's first step: "/Name" or "//Name" not preceded by something that makes it a later step
_ROOT_STEP = re.compile(r"(?<![\w)\]}.$/<*@>-])(//?)\s*([A-Za-z_][\w.\-]*)(?![\w.\-]*\s*\()")


def _mask_strings(text: str) -> str:
    """`text` with the inside of every string literal blanked (same length), so scans skip them."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        quote = text[i]
        if quote in "'\"":
            j = i + 1
            while j < n:
                if text[j] == quote:
                    if j + 1 < n and text[j + 1] == quote:  # doubled quote = escaped quote
                        j += 2
                        continue
                    break
                j += 1
            for k in range(i + 1, min(j, n)):
                out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def root_names(text: str) -> set[str]:
    """Names of the root elements that the absolute paths in `text` start with."""
    return {match.group(2) for match in _ROOT_STEP.finditer(_mask_strings(text))}


def rename_root(text: str, old: str, new: str) -> str:
    """Rewrite absolute paths starting at root `old` to start at `new` (string literals untouched)."""
    pieces: list[str] = []
    last = 0
    for match in _ROOT_STEP.finditer(_mask_strings(text)):
        if match.group(2) == old:
            pieces.append(text[last : match.start(2)])
            pieces.append(new)
            last = match.end(2)
    pieces.append(text[last:])
    return "".join(pieces)


# ---------------------------------------------------------------------------------------------
# XQuery direct element constructors
# ---------------------------------------------------------------------------------------------

_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z]+);")
_OPERAND_KEYWORDS = re.compile(r"(?:^|\W)(then|else|return|in|satisfies)$")


def _decode_entities(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _ENTITIES.get(name, match.group(0))

    return _ENTITY.sub(replace, text)


@dataclass(frozen=True)
class _Part:
    """An XPath expression plus the element constructors it references: those without free variables
    as `$knhk_cN` variables, built before it runs; the others as `knhk_construct(N)` calls, built where
    the XPath evaluates them (once per iteration of an enclosing `for`, with its variables bound)."""

    source: str
    token: Any
    constructors: tuple[tuple[str, _Constructor], ...]
    loops: bool  # has a token that iterates or builds (evaluated with the budget's clock)
    builds: bool  # has `knhk_construct(N)` calls
    free: frozenset[str]  # variables it references that it does not bind itself


@dataclass(frozen=True)
class _Constructor:
    """`<tag attr="v">text {expr} <child/></tag>`."""

    tag: str
    attributes: tuple[tuple[str, str], ...]
    content: tuple[str | _Part | _Constructor, ...]
    free: frozenset[str]  # variables its enclosed expressions reference and do not bind


# Placeholder predicates of YAWL's own test specifications; YAWL never defined them, they are
# constant true() here so those files stay executable.
_PLACEHOLDER_FUNCTIONS = ("random1", "random2")


class _Parser(XPath2Parser):
    """XPath 2.0 whose `to` ranges count against the evaluation's budget before they are built."""


_Range = _Parser.symbol_table["to"]


class _BudgetedRange(_Range):  # type: ignore[misc, valid-type]
    def evaluate(self, context: Any = None) -> Any:  # elementpath's, counting the items first
        start, stop = self.get_operands(context, cls=Integer)
        if start is None or stop is None:
            return []
        budget = getattr(context, "budget", None)
        if budget is not None and stop >= start:
            budget.range_items -= stop - start + 1
            if budget.range_items < 0:
                raise _OverBudget(f"exceeded its budget of {MAX_RANGE_ITEMS:,} range items "
                                  f"(the range {start} to {stop})")  # fmt: skip
        return xlist(range(start, stop + 1))


_Parser.symbol_table["to"] = _BudgetedRange

# `knhk_construct(N)`: the part's Nth constructor with free variables, built when evaluated (the
# scanner writes the call in the constructor's place and attaches the constructor to the token)
_CONSTRUCT = "knhk_construct"
_Construct = _Parser.function(_CONSTRUCT, nargs=1, sequence_types=("xs:integer", "element()"))


def _evaluate_construct(self: Any, context: Any = None) -> Any:
    if context is None:
        raise self.missing_context()
    element = _build(self.constructor, context.root, context.variables, getattr(context, "budget", None), context)
    return context.get_context_item(element)


_Construct.evaluate = _evaluate_construct
_BINDERS = frozenset(("for", "some", "every"))


def _variable_name(token: Any) -> str:
    name = token[0]
    return str(name.value) if name.symbol != ":" else f"{name[0].value}:{name[1].value}"


def _free_variables(token: Any, bound: frozenset[str] = frozenset()) -> set[str]:
    """Variables `token` references that are not in `bound` nor bound by its own `for`/`some`/`every`."""
    symbol = token.symbol
    if symbol == "$":
        name = _variable_name(token)
        return set() if name in bound else {name}
    if symbol == _CONSTRUCT:
        return set(token.constructor.free - bound)
    free: set[str] = set()
    if symbol in _BINDERS and len(token) >= 3 and token[0].symbol == "$":
        for k in range(0, len(token) - 1, 2):  # ($var, in-expression) pairs, then the body
            free |= _free_variables(token[k + 1], bound)
            bound = bound | {_variable_name(token[k])}
        return free | _free_variables(token[-1], bound)
    for child in token:
        free |= _free_variables(child, bound)
    return free


def _parser(source: str) -> XPath2Parser:
    parser = _Parser()
    for name in _PLACEHOLDER_FUNCTIONS:
        if name in source:
            parser.external_function(lambda: True, name=name, sequence_types=("xs:boolean",))
    return parser


class _Scanner:
    """Splits an expression into XPath text and embedded element constructors."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, pos: int, message: str) -> ExpressionError:
        return ExpressionError(f"invalid expression {self.text!r}: {message} at offset {pos}")

    def xpath(self, pos: int, stop: str | None) -> tuple[_Part, int]:
        """Scan XPath from `pos` up to the unbalanced `stop` char (or the end)."""
        text, n = self.text, len(self.text)
        out: list[str] = []
        constructors: list[tuple[str, _Constructor]] = []
        dynamic: list[_Constructor] = []
        depth = 0
        i = pos
        while i < n:
            char = text[i]
            if char in "'\"":
                j = i + 1
                while j < n and not (text[j] == char and (j + 1 >= n or text[j + 1] != char)):
                    j += 2 if text[j] == char else 1
                if j >= n:
                    raise self.fail(i, "unterminated string literal")
                out.append(text[i : j + 1])
                i = j + 1
                continue
            if char == "<" and i + 1 < n and _NAME_START.match(text[i + 1]) and self._operand_expected(out):
                constructor, i = self.constructor(i)
                if constructor.free:  # built where it is evaluated (per `for` iteration)
                    out.append(f"{_CONSTRUCT}({len(dynamic)})")
                    dynamic.append(constructor)
                else:  # built once, before the XPath runs
                    name = f"knhk_c{len(constructors)}"
                    constructors.append((name, constructor))
                    out.append(f"${name}")
                continue
            if char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    if char == stop:
                        return self._part("".join(out), constructors, dynamic, i), i + 1
                    raise self.fail(i, f"unbalanced {char!r}")
                depth -= 1
            out.append(char)
            i += 1
        if stop is not None:
            raise self.fail(n, f"missing {stop!r}")
        return self._part("".join(out), constructors, dynamic, n), n

    @staticmethod
    def _operand_expected(out: list[str]) -> bool:
        before = "".join(out[-40:]).rstrip()
        return not before or before[-1] in "(,{[" or bool(_OPERAND_KEYWORDS.search(before))

    def _part(
        self, source: str, constructors: list[tuple[str, _Constructor]], dynamic: list[_Constructor], pos: int
    ) -> _Part:
        if not source.strip():
            if constructors or dynamic:
                raise self.fail(pos, "empty expression")
            source = "()"
        try:
            token = _parser(source).parse(source.strip())
        except ElementPathError as exc:
            raise ExpressionError(f"invalid expression {self.text!r}: {exc}") from exc
        except RecursionError:
            raise ExpressionError(f"invalid expression {self.text!r}: nested too deeply") from None
        calls = [tk for tk in token.iter() if tk.symbol == _CONSTRUCT]
        for call in calls:
            index = call[0].value if call[0].symbol == "(integer)" else None
            if not isinstance(index, int) or not 0 <= index < len(dynamic):
                raise self.fail(pos, f"{_CONSTRUCT}() is reserved")
            call.constructor = dynamic[index]
        if len(calls) != len(dynamic):
            raise self.fail(pos, f"{_CONSTRUCT}() is reserved")
        free = _free_variables(token) - {name for name, _ in constructors}
        builds = bool(dynamic)
        return _Part(source, token, tuple(constructors), builds or _loops(token), builds, frozenset(free))

    def constructor(self, pos: int) -> tuple[_Constructor, int]:
        """Parse `<tag ...>...</tag>` or `<tag .../>` starting at `pos` (which is at `<`)."""
        text, n = self.text, len(self.text)
        match = _NAME.match(text, pos + 1)
        if not match:
            raise self.fail(pos, "element name expected")
        tag = match.group(0)
        i = match.end()
        attributes: list[tuple[str, str]] = []
        while True:
            while i < n and text[i].isspace():
                i += 1
            if text.startswith("/>", i):
                return _Constructor(tag, tuple(attributes), (), frozenset()), i + 2
            if text.startswith(">", i):
                i += 1
                break
            attribute = re.compile(r"([A-Za-z_][\w.\-:]*)\s*=\s*(\"[^\"]*\"|'[^']*')").match(text, i)
            if not attribute:
                raise self.fail(i, f"malformed start tag <{tag}>")
            value = attribute.group(2)[1:-1]
            if "{" in value:
                raise self.fail(i, "enclosed expressions in attributes are not supported")
            attributes.append((attribute.group(1), _decode_entities(value)))
            i = attribute.end()
        content: list[str | _Part | _Constructor] = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                content.append(_decode_entities("".join(buffer)))
                buffer.clear()

        while i < n:
            if text.startswith("</", i):
                end = re.compile(r"</\s*([^\s>]+)\s*>").match(text, i)
                if not end or end.group(1) != tag:
                    raise self.fail(i, f"expected </{tag}>")
                flush()
                free = frozenset().union(*(part.free for part in content if not isinstance(part, str)))
                return _Constructor(tag, tuple(attributes), tuple(content), free), end.end()
            char = text[i]
            if text.startswith("{{", i) or text.startswith("}}", i):
                buffer.append(char)
                i += 2
            elif char == "{":
                flush()
                part, i = self.xpath(i + 1, "}")
                content.append(part)
            elif char == "<" and text.startswith("<!--", i):
                end_comment = text.find("-->", i)
                if end_comment < 0:
                    raise self.fail(i, "unterminated comment")
                i = end_comment + 3
            elif char == "<":
                flush()
                child, i = self.constructor(i)
                content.append(child)
            else:
                buffer.append(char)
                i += 1
        raise self.fail(n, f"missing </{tag}>")


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------


def _format_atomic(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    return str(value)


def _append_text(element: Element, text: str) -> None:
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def _run(
    part: _Part, document: Any, variables: dict[str, Any], budget: _Budget | None, base: Any = None
) -> Any:
    if base is not None:  # inside a constructor built during the XPath: a copy of its context, refocused
        context = copy(base)  # (its variables, budget and current time; a budgeted copy reads the clock)
        context.item, context.position, context.size = context.root, 1, 1
        if part.constructors:
            context.variables = dict(context.variables)
            for name, constructor in part.constructors:
                context.variables[name] = context.get_value(_build(constructor, document, variables, budget, base))
        return part.token.get_results(context)
    if part.constructors:
        variables = dict(variables)
        for name, constructor in part.constructors:
            variables[name] = _build(constructor, document, variables, budget)
    return part.token.get_results(_context(part.loops, document, variables, budget))


def _build(
    constructor: _Constructor, document: Any, variables: dict[str, Any], budget: _Budget | None, base: Any = None
) -> Element:
    element = Element(constructor.tag, dict(constructor.attributes))
    for item in constructor.content:
        if isinstance(item, str):
            if item.strip():  # boundary whitespace is dropped, as XQuery does by default
                _append_text(element, item)
        elif isinstance(item, _Constructor):
            element.append(_build(item, document, variables, budget, base))
        else:
            results = _run(item, document, variables, budget, base)
            atomics: list[str] = []  # a run of atomic values becomes one text, space-separated
            for value in results if isinstance(results, list) else [results]:
                if isinstance(value, Element):
                    if atomics:
                        _append_text(element, " ".join(atomics))
                        atomics.clear()
                    element.append(value)
                elif value is not None:
                    atomics.append(_format_atomic(value))
            if atomics:  # joined once: appending each value to the text would be quadratic
                _append_text(element, " ".join(atomics))
    return element


def _renamed(document: Element, name: str) -> Element:
    """A shallow copy of `document` with its root element called `name`."""
    root = Element(name, document.attrib)
    root.text = document.text
    root.extend(list(document))
    return root


_TREE_CACHE_SIZE = 64
_trees: OrderedDict[tuple[int, str | None], tuple[Element, Any]] = OrderedDict()
_trees_lock = threading.Lock()


def _node_tree(document: Element, root_name: str | None) -> Any:
    """The elementpath node tree of `document` (root renamed to `root_name` when it differs), built
    once for the last few documents: building it is half the cost of an evaluation. A document must
    not be changed once it has been evaluated against (the engine renders a new one per data change)."""
    name = root_name if root_name is not None and document.tag != root_name else None
    key = (id(document), name)
    with _trees_lock:
        cached = _trees.get(key)
        if cached is not None and cached[0] is document:
            _trees.move_to_end(key)
            return cached[1]
    tree = get_node_tree(_renamed(document, name) if name else document)
    with _trees_lock:
        _trees[key] = (document, tree)
        while len(_trees) > _TREE_CACHE_SIZE:
            _trees.popitem(last=False)
    return tree


class Expression:
    """A compiled XPath 2.0 expression (possibly with XQuery element constructors)."""

    __slots__ = ("text", "_token", "constant", "_part", "_root", "_loops")

    def __init__(self, text: str, token: Any, constant: Any = None, part: _Part | None = None) -> None:
        self.text = text
        self._token = token
        self.constant = constant  # True/False for `true()`/`false()`, else None
        self._part = part
        self._loops = token is not None and _loops(token)
        roots = root_names(text) if constant is None else set()
        self._root = next(iter(roots)) if len(roots) == 1 else None

    def evaluate(self, document: Element, variables: dict[str, Any] | None = None) -> Any:
        """The expression's value against a net document (a sequence is a list of items;
        nodes are Elements, text nodes are strings)."""
        if self.constant is not None:
            return self.constant
        try:
            tree = _node_tree(document, self._root)
            budget = _Budget() if self._loops or self._part is not None else None
            if self._part is not None:
                return _run(self._part, tree, variables or {}, budget)
            return self._token.get_results(_context(self._loops, tree, variables, budget))
        except _OverBudget as exc:
            raise ExpressionError(f"expression {self.text!r} {exc}") from None
        except (ElementPathError, TypeError, ValueError, ArithmeticError, KeyError) as exc:
            raise ExpressionError(f"expression {self.text!r} failed: {exc}") from exc
        except RecursionError:
            raise ExpressionError(f"expression {self.text!r} failed: nested too deeply") from None

    def value(self, document: Element, xsd_type: str | None = None) -> Any:
        """The result as a JSON value (see `to_json_value`), typed by `xsd_type` when simple."""
        return to_json_value(self.evaluate(document), xsd_type)

    def test(self, document: Element) -> bool:
        """The expression's effective boolean value."""
        if self.constant is not None:
            return self.constant
        value = self.evaluate(document)
        if isinstance(value, list):
            if not value:
                return False
            if len(value) == 1 and isinstance(value[0], bool):
                return value[0]
            return True
        return bool(value)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


_CONSTANTS = {"true()": True, "false()": False}


@lru_cache(maxsize=4096)
def compile_expression(text: str) -> Expression:
    """Parse an XPath 2.0 expression once; raises ExpressionError naming the problem."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    stripped = text.strip()
    if stripped in _CONSTANTS:
        return Expression(text, None, _CONSTANTS[stripped])
    if not stripped:
        raise ExpressionError("empty expression")
    part, _ = _Scanner(stripped).xpath(0, None)
    if part.constructors or part.builds:
        return Expression(text, part.token, part=part)
    return Expression(text, part.token)


# ---------------------------------------------------------------------------------------------
# Data: JSON <-> XML
# ---------------------------------------------------------------------------------------------

def coerce_text(text: str, xsd_type: str | None = None) -> Any:
    """An XML text value as JSON, typed by a simple XSD type (xs:int -> int, ...); else the string.
    Text that does not fit the type stays a string (empty text of a typed value becomes None)."""
    kind = simple_kind(xsd_type)
    if kind is None:
        return text
    stripped = text.strip()
    if not stripped:
        return None
    try:
        if kind == "int":
            return int(stripped)
        if kind == "number":
            if re.fullmatch(r"[+-]?\d+", stripped):
                return int(stripped)  # a whole number keeps its JSON integer form
            number = float(stripped)
            return number if number == number and abs(number) != float("inf") else stripped
    except ValueError:
        return text
    if stripped in ("true", "1"):
        return True
    if stripped in ("false", "0"):
        return False
    return text


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def element_to_json(element: Element, xsd_type: str | None = None) -> Any:
    """An element's content as JSON: children -> object (repeated names -> list), else its text."""
    children = list(element)
    if not children:
        return coerce_text(element.text or "", xsd_type)
    repeated = _repeated(children)
    result: dict[str, Any] = {}
    for child in children:
        key = _local_name(child.tag)
        if key in repeated:
            result.setdefault(key, []).append(element_to_json(child))
        else:
            result[key] = element_to_json(child)
    return result


def _repeated(children: list[Element]) -> set[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for child in children:
        key = _local_name(child.tag)
        (repeated if key in seen else seen).add(key)
    return repeated


def to_json_value(result: Any, xsd_type: str | None = None) -> Any:
    """An expression result as a JSON value: an empty sequence -> None, one item -> that item,
    several -> a list; an element -> its content (`element_to_json`); strings typed by `xsd_type`."""
    if isinstance(result, list):
        items = [to_json_value(item, xsd_type) for item in result]
        if not items:
            return None
        return items[0] if len(items) == 1 else items
    if isinstance(result, Element):
        return element_to_json(result, xsd_type)
    if result is None or isinstance(result, (bool, int)):
        return result
    if isinstance(result, float):
        if simple_kind(xsd_type) == "int" and result.is_integer():
            return int(result)  # `n + 1` over untyped data is an xs:double; an integer variable keeps ints
        return result if result == result and abs(result) != float("inf") else str(result)
    if isinstance(result, Decimal):
        return int(result) if result == result.to_integral_value() else float(result)
    if isinstance(result, str):
        return coerce_text(result, xsd_type)
    if isinstance(result, (date, datetime, time)):
        return result.isoformat()
    return coerce_text(str(result), xsd_type)


def _append(parent: Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _append(parent, name, item)
        return
    child = Element(name)
    parent.append(child)
    if isinstance(value, dict):
        for key, item in value.items():
            _append(child, key, item)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None and value != "":
        child.text = str(value)  # an empty string is an element without a text node, as in XML


def net_document(net_id: str, data: dict[str, Any]) -> Element:
    """Render a net's data as the XML document expressions are evaluated against."""
    root = Element(net_id)
    for key, value in data.items():
        _append(root, key, value)
    return root
