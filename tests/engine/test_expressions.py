"""Expressions as YAWL writes them: XPath predicates, XQuery element constructors, root names, JSON values."""

from __future__ import annotations

import time
from xml.etree.ElementTree import tostring

import pytest
from elementpath import XPathContext

from knhk.engine import expressions
from knhk.engine.expressions import (
    ExpressionError,
    compile_expression,
    element_to_json,
    net_document,
    rename_root,
    root_names,
    to_json_value,
)

ORDER = {
    "POrder": {
        "Company": {"Name": "ACME", "City": "Brisbane"},
        "Order": {"OrderNumber": "42", "RevisionNumber": 2, "Lines": {"Line": [{"No": 1}, {"No": 2}]}},
        "Prepaid": True,
    },
    "time": "",
    "time-fallback": "10000",
    "stubList": {"stub": ["", "", ""]},
    "amount": 1500,
}


@pytest.fixture
def document():
    return net_document("Ordering", ORDER)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Ordering/POrder/Order/OrderNumber/text()='42'", True),
        ("/Ordering/POrder/Order/OrderNumber/text()='43'", False),
        ("number(/Ordering/amount) > 1000", True),
        ("amount > 3000", False),
        ("/Ordering/POrder/Prepaid/text()='true'", True),
        ("exists(/Ordering/POrder/Company/Name) and empty(/Ordering/POrder/Missing)", True),
        ("true()", True),
        ("false()", False),
    ],
)
def test_predicates_as_yawl_writes_them(document, text: str, expected: bool) -> None:
    assert compile_expression(text).test(document) is expected


def test_constructor_with_children_copies_the_selected_elements(document) -> None:
    value = compile_expression("<POrder>{/Ordering/POrder/*}</POrder>").value(document)
    assert value == ORDER["POrder"] | {"Order": {**ORDER["POrder"]["Order"], "RevisionNumber": "2",
                                                 "Lines": {"Line": [{"No": "1"}, {"No": "2"}]}},
                                       "Prepaid": "true"}  # fmt: skip


def test_nested_constructors_literal_text_and_arithmetic(document) -> None:
    expression = compile_expression(
        "<Order> <Number>{/Ordering/POrder/Order/OrderNumber/text()}</Number> <Currency>AUD</Currency>"
        " <Revision>{/Ordering/POrder/Order/RevisionNumber/text()+1}</Revision> <Remarks/></Order>"
    )
    [element] = expression.evaluate(document)
    assert tostring(element, encoding="unicode") == (
        "<Order><Number>42</Number><Currency>AUD</Currency><Revision>3</Revision><Remarks /></Order>"
    )
    assert expression.value(document) == {"Number": "42", "Currency": "AUD", "Revision": "3", "Remarks": ""}


def test_text_around_an_enclosed_expression_is_kept(document) -> None:
    expression = compile_expression("<expiry>P{count(/Ordering/stubList/stub)}D</expiry>")
    assert expression.value(document) == "P3D"


def test_if_then_else_inside_a_constructor_on_beta_data(document) -> None:
    # Timer.xml: an empty `time` falls back to `time-fallback`; Beta writes /data/ for the net root
    expression = compile_expression(
        "<time> {if ( /data/time/text() ) then /data/time/text() else /data/time-fallback/text() }</time>"
    )
    assert expression.value(document, "xs:string") == "10000"


def test_constructor_inside_an_if_branch(document) -> None:
    expression = compile_expression(
        "<Notices>{if (count(/Ordering/Notices/*) = 0) then <Notice><No>placeholder</No></Notice>"
        " else /Ordering/Notices/*}</Notices>"
    )
    assert expression.value(document) == {"Notice": {"No": "placeholder"}}


def test_splitting_query_yields_one_item_per_element(document) -> None:
    result = compile_expression("for $d in (/data/stubList)/* return $d").evaluate(document)
    assert [element.tag for element in result] == ["stub", "stub", "stub"]


# ---------------------------------------------------------------------------- constructors in `for` bodies

STOCK = {"items": {"item": [{"name": "bolt", "qty": 3}, {"name": "nut", "qty": 5}]}, "tags": {"t": ["x", "y"]}}


@pytest.fixture
def stock():
    return net_document("Net", STOCK)


def test_constructor_in_a_for_body_is_built_per_item_with_the_variable_bound(stock) -> None:
    text = "for $i in /Net/tags/* return <item>{$i/text()}</item>"
    result = compile_expression(text).evaluate(stock)
    assert [tostring(element, encoding="unicode") for element in result] == ["<item>x</item>", "<item>y</item>"]
    assert compile_expression(text).value(stock) == ["x", "y"]


def test_nested_constructors_in_a_for_body_see_the_variable(stock) -> None:
    text = "for $i in /Net/items/* return <o><n>{$i/name/text()}</n><q>{$i/qty/text()}</q></o>"
    assert compile_expression(text).value(stock) == [{"n": "bolt", "q": "3"}, {"n": "nut", "q": "5"}]
    nested_for = "for $i in /Net/items/* return for $t in /Net/tags/* return <p>{$i/name/text()}-{$t/text()}</p>"
    assert compile_expression(nested_for).value(stock) == ["bolt-x", "bolt-y", "nut-x", "nut-y"]


def test_for_with_two_variables_returning_a_constructor(stock) -> None:
    text = "for $i in /Net/items/*, $t in /Net/tags/* return <p n='1'>{$i/name/text()}{$t/text()}</p>"
    assert compile_expression(text).value(stock) == ["boltx", "bolty", "nutx", "nuty"]


def test_for_constructor_inside_an_outer_constructor(stock) -> None:
    text = "<list>{for $v in /Net/items/* return <x><n>{$v/name/text()}</n></x>}</list>"
    assert compile_expression(text).value(stock) == {"x": [{"n": "bolt"}, {"n": "nut"}]}
    # the outer constructor binds nothing from outside: it is still built once, before the XPath runs
    part = compile_expression(text)._part
    assert part is not None and not part.builds and part.constructors[0][1].free == frozenset()


def test_constructed_sequence_is_an_xpath_value(stock) -> None:
    assert compile_expression("count(for $i in /Net/items/* return <x>{$i/qty/text()}</x>)").evaluate(stock) == 2
    text = "sum((for $i in /Net/items/* return <x><y>{$i/qty/text()}</y></x>)/y)"
    assert compile_expression(text).evaluate(stock) == 8
    assert compile_expression("for $i in (1, 2) return <a>{$i * 10}</a>").value(stock) == ["10", "20"]


def test_constructor_with_an_outside_variable_is_built_with_it(stock) -> None:
    assert compile_expression("<a>{$n + 1}</a>").evaluate(stock, {"n": 4})[0].text == "5"


def test_unknown_variable_in_a_for_constructor_is_an_expression_error(stock) -> None:
    text = "for $i in /Net/tags/* return <item>{$j/text()}</item>"
    with pytest.raises(ExpressionError, match=r"failed: .*unknown variable 'j'"):
        compile_expression(text).evaluate(stock)


def test_a_long_sequence_of_atomic_values_becomes_one_text_in_linear_time(stock) -> None:
    started = time.monotonic()
    element = compile_expression("<x>{1 to 500000}</x>").evaluate(stock)[0]
    assert element.text.startswith("1 2 3 ") and element.text.endswith(" 500000")
    assert time.monotonic() - started < 2  # appending value by value took half a minute
    mixed = compile_expression("<x>{(1, 2, <y/>, 3, 4)}-{5}</x>").evaluate(stock)[0]
    assert tostring(mixed, encoding="unicode") == "<x>1 2<y />3 4-5</x>"


def test_the_constructor_function_is_reserved() -> None:
    with pytest.raises(ExpressionError, match=r"knhk_construct\(\) is reserved"):
        compile_expression("knhk_construct(0)")


def test_root_name_is_independent_of_the_document_root(document) -> None:
    # a completed mapping names the decomposition (/Approve/...) while the engine may name the task
    output = net_document("Approve_Purchase_Order_1901", {"POApproval": "true"})
    assert (
        compile_expression("<POApproval>{/Approve/POApproval/text()}</POApproval>").value(
            output, "xs:boolean"
        )
        is True
    )


def test_root_names_and_rename_skip_string_literals_and_later_steps() -> None:
    text = "/data/a/text() = '/data/b' and //data/c and count(/data/d/e) > 0 and </x>"
    assert root_names(text) == {"data"}
    assert rename_root(text, "data", "Net") == (
        "/Net/a/text() = '/data/b' and //Net/c and count(/Net/d/e) > 0 and </x>"
    )


def test_placeholder_functions_of_yawl_test_files_are_true(document) -> None:
    assert compile_expression("random1()").test(document) is True
    assert compile_expression("random2() and true()").test(document) is True


def test_compile_is_cached() -> None:
    assert compile_expression("<a>{/N/b/text()}</a>") is compile_expression("<a>{/N/b/text()}</a>")


@pytest.mark.parametrize(
    "text",
    ["/Net/a[", "<a>{/Net/b/text()}</b>", "<a>{/Net/b/text()</a>", "unknown-function(1)", "<a x='{1}'/>", ""],
)
def test_bad_expressions_raise_expression_error_naming_the_text(text: str) -> None:
    with pytest.raises(ExpressionError) as failure:
        compile_expression(text)
    assert "expression" in str(failure.value)


def test_evaluation_failure_is_an_expression_error(document) -> None:
    expression = compile_expression("xs:integer(/Ordering/POrder/Company/Name/text())")
    with pytest.raises(ExpressionError, match="failed"):
        expression.evaluate(document)


def test_json_values_typed_by_xsd_type() -> None:
    element = net_document("v", {"n": "7", "d": "2.5", "b": "true", "s": "007"})
    assert to_json_value(element.find("n"), "xs:int") == 7
    assert to_json_value(element.find("d"), "xs:double") == 2.5
    assert to_json_value(element.find("b"), "boolean") is True
    assert to_json_value(element.find("s"), "xs:string") == "007"
    assert to_json_value([]) is None
    assert to_json_value(["a", "b"]) == ["a", "b"]


def test_repeated_children_become_a_list_and_render_back() -> None:
    data = {"lines": {"line": ["apples", "pears"]}, "empty": ""}
    document = net_document("Net", data)
    assert element_to_json(document) == data
    assert document.find("empty").text is None  # an empty string is an element without text


# ---------------------------------------------------------------------------- evaluation budget


@pytest.fixture
def budget_ms():
    """Set the evaluation time budget for one test (restored after it)."""
    previous = expressions.time_budget_ms()
    yield lambda milliseconds: expressions.configure(xpath_timeout_ms=milliseconds)
    expressions.configure(xpath_timeout_ms=previous)


@pytest.mark.parametrize(
    "text",
    [
        "count(for $i in 1 to 1000000 return $i)",
        "string-join(for $i in 1 to 1000000 return 'a', '')",
        "count(for $i in 1 to 1000 return for $j in 1 to 1000 return for $k in 1 to 1000 return ())",
        "some $i in 1 to 1000000 satisfies $i < 0",
        "every $i in 1 to 1000000 satisfies $i > 0",
        "count((1 to 1000000)[. mod 2 = 0])",
        "<x>{count(for $i in 1 to 1000 return for $j in 1 to 1000 return $j)}</x>",
        "for $i in 1 to 1000000 return <x>{$i}</x>",  # a constructor per item
        "<l>{for $i in 1 to 1000 return <x>{count(for $j in 1 to 10000 return $j + $i)}</x>}</l>",
    ],
)
def test_a_loop_over_the_time_budget_is_an_expression_error(document, budget_ms, text: str) -> None:
    budget_ms(30)
    started = time.monotonic()
    with pytest.raises(ExpressionError) as error:
        compile_expression(text).evaluate(document)
    assert str(error.value) == f"expression {text!r} exceeded its 30 ms budget"
    assert time.monotonic() - started < 1.5  # the whole loop would take seconds to minutes


@pytest.mark.parametrize(
    "text",
    [
        "for $i in 1 to 1000000000 return $i",
        "string-join(for $i in 1 to 100000000 return 'a', '')",
        "<x>{for $i in 1 to 100000000 return $i}</x>",
        "count(1 to 1000001)",
        "for $i in 1 to 1000000, $j in 1 to 1000000 return 1",  # the ranges of one evaluation count together
        "for $i in 1 to 999999 return <x>{$i to $i + 5}</x>",  # ... also those of the constructors it builds
    ],
)
def test_ranges_over_the_item_budget_fail_before_they_are_built(document, text: str) -> None:
    started = time.monotonic()
    with pytest.raises(ExpressionError) as error:
        compile_expression(text).evaluate(document)
    assert str(error.value).startswith(f"expression {text!r} exceeded its budget of 1,000,000 range items (the range ")
    assert time.monotonic() - started < 1.0


def test_ranges_and_loops_within_the_budget_work(document) -> None:
    assert compile_expression("1 to 3").evaluate(document) == [1, 2, 3]
    assert compile_expression("5 to 1").evaluate(document) == []
    assert compile_expression("() to 3").evaluate(document) == []
    assert compile_expression("count(1 to 1000000)").evaluate(document) == 1_000_000
    assert compile_expression("for $i in 1 to 3 return $i * 2").evaluate(document) == [2, 4, 6]
    expression = compile_expression("sum(for $i in 1 to 1000 return $i)")
    assert [expression.evaluate(document) for _ in range(3)] == [500500] * 3  # each evaluation has its own budget


def test_configure_refuses_a_budget_that_is_not_a_positive_integer(budget_ms) -> None:
    for bad in (0, -5, 1.5, "100", True):
        with pytest.raises(ValueError, match="xpath_timeout_ms must be a positive integer"):
            expressions.configure(xpath_timeout_ms=bad)
    budget_ms(250)
    assert expressions.time_budget_ms() == 250


def test_the_budgeted_context_copies_what_elementpath_copies() -> None:
    # _Context.__copy__ inlines XPathContext.__copy__: an elementpath upgrade that changes the context's
    # slots must be looked at (requirements.lock pins elementpath)
    assert XPathContext.__slots__ == ("document", "root", "item", "namespaces", "size", "position", "variables",
                                      "axis", "__dict__")  # fmt: skip
