"""XPath 2.0 expressions over a net's data, compiled once per specification (elementpath).

A net's data is a JSON object. Expressions see it as an XML document: the root element is named
after the net, each variable is a child element, objects nest, and a list becomes repeated elements
of the same name. So `amount > 1000` and YAWL's `/Net/amount/text() > 1000` both work.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from xml.etree.ElementTree import Element

from elementpath import XPath2Parser, XPathContext
from elementpath.exceptions import ElementPathError

__all__ = ["Expression", "ExpressionError", "compile_expression", "net_document"]


class ExpressionError(ValueError):
    """An expression that does not parse, or fails when evaluated."""


class Expression:
    """A compiled XPath 2.0 expression."""

    __slots__ = ("text", "_token", "constant")

    def __init__(self, text: str, token: Any, constant: Any = None) -> None:
        self.text = text
        self._token = token
        self.constant = constant  # True/False for `true()`/`false()`, else None

    def evaluate(self, document: Element) -> Any:
        """The expression's value against a net document (a sequence is a list)."""
        if self.constant is not None:
            return self.constant
        try:
            return self._token.get_results(XPathContext(document))
        except (ElementPathError, TypeError, ValueError, ArithmeticError) as exc:
            raise ExpressionError(f"expression {self.text!r} failed: {exc}") from exc

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
    stripped = text.strip()
    if stripped in _CONSTANTS:
        return Expression(text, None, _CONSTANTS[stripped])
    try:
        token = XPath2Parser().parse(stripped)
    except ElementPathError as exc:
        raise ExpressionError(f"invalid expression {text!r}: {exc}") from exc
    return Expression(text, token)


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
    elif value is not None:
        child.text = str(value)


def net_document(net_id: str, data: dict[str, Any]) -> Element:
    """Render a net's data as the XML document expressions are evaluated against."""
    root = Element(net_id)
    for key, value in data.items():
        _append(root, key, value)
    return root
