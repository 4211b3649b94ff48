"""Quick XPath timing: microseconds per evaluation of typical spec expressions (best of many rounds).

    PYTHONPATH=. .venv/bin/python -m bench.xpath_quick [--rounds N]

Flow predicates, a path predicate, an MI splitting query with `for` (over items, over a range), an element
constructor with a `for` inside, a mapping, an MI splitting query constructing an element per item (20 items);
each against a small net document (as a case's net data).
"""

from __future__ import annotations

import argparse
import time

from knhk.engine.expressions import compile_expression, net_document

DATA = {"amount": 1500, "status": "ok", "count": 20,
        "items": [{"name": f"n{i}", "qty": i} for i in range(20)]}  # fmt: skip
EXPRESSIONS = {
    "predicate": "/Net/amount/text() > 1000 and count(/Net/items) > 3",
    "path-predicate": "count(/Net/items[qty > 5]) > 3",
    "quantified": "some $i in /Net/items satisfies $i/qty > 18",
    "mi-for": "for $i in /Net/items return $i/name",
    "mi-range": "for $i in 1 to /Net/count return $i * 2",
    "constructor-for": "<names>{for $i in /Net/items return $i/name/text()}</names>",
    "mapping": "<total>{sum(/Net/items/qty)}</total>",
    "mi-for-constructor": "for $i in /Net/items return <o><n>{$i/name/text()}</n><q>{$i/qty/text()}</q></o>",
}


def best_per_eval(text: str, rounds: int, inner: int = 50) -> float:
    expression = compile_expression(text)
    document = net_document("Net", DATA)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(inner):
            expression.evaluate(document)
        best = min(best, (time.perf_counter() - started) / inner)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for name, text in EXPRESSIONS.items():
        print(f"{name}: {best_per_eval(text, args.rounds) * 1e6:.1f} us per evaluation (best of {args.rounds})")


if __name__ == "__main__":
    main()
