"""Server-side SVG diagrams of workflow nets, drawn the way the YAWL editor draws them.

Conditions are circles (the input condition holds a "play" triangle, the output condition a "stop"
square), tasks are boxes with their join decoration on the left and split decoration on the right
(AND: a triangle pointing into the task, XOR: a triangle pointing out, OR: a diamond; each labelled),
composite tasks have a double border, multiple-instance tasks are stacked boxes. Implicit conditions
are not drawn (a task-to-task flow is one arc), flow predicates label their arcs, and the cancellation
set of each cancelling task is a hidden group the page shows on demand.

Layout: grandalf's Sugiyama (layered) layout, the algorithm of Graphviz's `dot`, in pure Python (no
system binary to install), turned to run left to right as YAWL nets are drawn. A case overlay adds the
tokens in conditions (and on task-to-task arcs) and highlights enabled and started work items.

This module reads only the specification dict and plain data; it does not touch the database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from knhk.engine.spec import Net, Specification, Task, implicit_condition_id

__all__ = ["CaseOverlay", "NetDiagram", "spec_diagrams", "short_predicate"]

TASK_SIZE = 40  # the task box (square, as YAWL's)
DECORATION = 12  # width of a join/split decoration
RADIUS = 18  # condition circle
LABEL_LINE = 13  # height of one label line
LABEL_LINES = 2
LABEL_CHARS = 18  # characters per label line
CHAR_WIDTH = 6.4  # approximate width of a character at the label font size
NODE_HEIGHT = TASK_SIZE + 2 * (LABEL_LINES * LABEL_LINE + 6)  # label room below, the same above
LAYER_GAP = 64  # between layers (left to right)
NODE_GAP = 14  # between nodes of one layer (top to bottom)
MARGIN = 16
COMPONENT_GAP = 30
PREDICATE_CHARS = 32

_CODES = {"and": "AND", "xor": "XOR", "or": "OR"}

# Inside each SVG so it reads the same on a page, in a download and in a screenshot.
DIAGRAM_CSS = """
.net-diagram{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#fff}
.net-diagram .shape{fill:#fff;stroke:#1f2937;stroke-width:1.5}
.net-diagram .stack{fill:#f3f4f6}
.net-diagram .inner{fill:none;stroke:#1f2937;stroke-width:1}
.net-diagram .label{font-size:11px;fill:#111827}
.net-diagram .decoration line,.net-diagram .decoration path{fill:none;stroke:#1f2937;stroke-width:1.2}
.net-diagram .decoration.or path{fill:#e5e7eb}
.net-diagram .decoration .code{font-size:8px;font-weight:600;fill:#374151;stroke:none}
.net-diagram .icon.start{fill:#15803d}.net-diagram .icon.stop{fill:#b91c1c}
.net-diagram .missing .shape{stroke:#b91c1c;stroke-dasharray:4 3}
.net-diagram .arc path{fill:none;stroke:#4b5563;stroke-width:1.3}
.net-diagram .arc.default path{stroke-dasharray:6 3}
.net-diagram .arrowhead{fill:#4b5563}
.net-diagram .predicate{font-size:10px;fill:#1d4ed8;paint-order:stroke;stroke:#fff;stroke-width:3px}
.net-diagram .token{fill:#111827}.net-diagram .token-count{font-size:9px;font-weight:700;fill:#fff}
.net-diagram .condition.marked .shape{stroke:#111827;stroke-width:2.5}
.net-diagram .task.enabled .shape{fill:#fef3c7;stroke:#b45309;stroke-width:3}
.net-diagram .task.started .shape{fill:#dbeafe;stroke:#1d4ed8;stroke-width:3}
.net-diagram .item-count{font-size:10px;font-weight:700;fill:#1f2937}
.net-diagram .glyph{font-size:14px;fill:#374151}
.net-diagram .timer circle{fill:#fff;stroke:#374151}.net-diagram .timer path{fill:none;stroke:#374151}
.net-diagram .cancel-mark circle{fill:#fee2e2;stroke:#b91c1c}.net-diagram .cancel-mark path{stroke:#b91c1c}
.net-diagram .cancel-region{display:none}
.net-diagram .cancel-region.shown,.net-diagram .cancel-region.hover,.net-diagram.show-all-regions .cancel-region{display:inline}
.net-diagram .cancel-region .member{fill:rgba(239,68,68,.12);stroke:#dc2626;stroke-width:1.5;stroke-dasharray:5 3}
.net-diagram .cancel-region .canceller{fill:none;stroke:#dc2626;stroke-width:2}
.net-diagram .task.cancelling{cursor:pointer}
"""


@dataclass
class CaseOverlay:
    """Where a case is: tokens per `"net:condition"` (as `Case.marking()`) and its live work items."""

    marking: Mapping[str, int] = field(default_factory=dict)
    items: Iterable[tuple[str, str, str]] = ()  # (net id, task id, state enabled|started)

    def for_net(self, net_id: str, all_net_ids: Iterable[str]) -> _NetOverlay:
        """The tokens and items of one net (marking keys are split on the longest matching net id)."""
        net_ids = sorted(all_net_ids, key=len, reverse=True)
        tokens: dict[str, int] = {}
        for key, count in self.marking.items():
            owner = next((n for n in net_ids if key.startswith(n + ":")), None)
            if owner == net_id and count:
                node = key[len(net_id) + 1 :]
                tokens[node] = tokens.get(node, 0) + int(count)
        items: dict[str, dict[str, int]] = {}
        for item_net, task_id, state in self.items:
            if item_net == net_id and state in ("enabled", "started"):
                per_state = items.setdefault(task_id, {})
                per_state[state] = per_state.get(state, 0) + 1
        return _NetOverlay(tokens, items)


@dataclass
class _NetOverlay:
    tokens: dict[str, int]
    items: dict[str, dict[str, int]]

    def item_state(self, task_id: str) -> str | None:
        states = self.items.get(task_id, {})
        if "started" in states:
            return "started"
        return "enabled" if "enabled" in states else None


@dataclass(frozen=True)
class NetDiagram:
    """One net's SVG plus what the page needs around it."""

    net_id: str
    name: str
    is_root: bool
    svg: str  # safe markup: every text in it is escaped here
    dom_id: str  # the prefix of every id inside the SVG
    cancelling_tasks: tuple[tuple[str, str], ...]  # (task id, label) of tasks with a cancellation set


def spec_diagrams(spec: dict | Specification, overlay: CaseOverlay | None = None, prefix: str = "net") -> list[
    NetDiagram
]:
    """The diagram of every net, root first. A malformed document raises the engine's SpecError."""
    model = spec if isinstance(spec, Specification) else Specification.from_dict(spec)
    net_ids = [net.id for net in model.nets]
    diagrams = []
    for index, net in enumerate(model.nets):
        dom_id = f"{_dom_safe(prefix)}-{index}"
        net_overlay = overlay.for_net(net.id, net_ids) if overlay is not None else None
        drawing = _NetDrawing(net, dom_id, net_overlay, spec_name=model.name or model.id)
        diagrams.append(
            NetDiagram(
                net_id=net.id,
                name=net.name or net.id,
                is_root=index == 0,
                svg=drawing.svg(),
                dom_id=dom_id,
                cancelling_tasks=tuple((t.id, t.name or t.id) for t in net.tasks if t.cancels),
            )
        )
    return diagrams


def short_predicate(predicate: str) -> str:
    """A predicate as a label: YAWL's absolute `/Net/var/text()` paths shortened to `var`, long text cut."""
    text = re.sub(r"(^|[^\w)\]])/[\w.-]+/(?=[\w.-])", r"\1", predicate.strip())  # drop the /Net/ step
    text = re.sub(r"\s+", " ", text.replace("/text()", ""))
    return text if len(text) <= PREDICATE_CHARS else text[: PREDICATE_CHARS - 1] + "…"


_GENERATED_CONDITION_ID = re.compile(r"null_\d+")  # YAWL's editor names unnamed conditions this way


def _condition_label(condition_id: str, name: str | None, condition_type: str) -> str:
    """A condition's name; an unnamed plain condition shows its id unless the id is a generated one."""
    if name or condition_type != "condition":
        return name or ""
    return "" if _GENERATED_CONDITION_ID.fullmatch(condition_id) else condition_id


# --------------------------------------------------------------------------- layout


@dataclass
class _Box:
    """A laid-out node: centre (x, y) of its shape, width and height of its bounding box."""

    id: str
    kind: str  # task | condition | missing
    label_lines: list[str]
    w: float
    h: float
    task: Task | None = None
    condition_type: str = "condition"
    x: float = 0.0
    y: float = 0.0


@dataclass
class _Arc:
    source: str
    target: str
    predicate: str | None
    default: bool
    points: list[tuple[float, float]] = field(default_factory=list)


class _View:
    """grandalf's view of a vertex: (w, h) in its top-down frame; we swap axes for left to right."""

    def __init__(self, w: float, h: float) -> None:
        self.w, self.h = w, h
        self.xy = (0.0, 0.0)


class _EdgeView:
    def setpath(self, points: list[tuple[float, float]]) -> None:
        self.points = points


def _wrap(text: str) -> list[str]:
    """Up to LABEL_LINES lines of LABEL_CHARS, the last one cut with an ellipsis."""
    words, lines, current = text.split(), [], ""
    for word in words:
        while len(word) > LABEL_CHARS:  # a long word is split hard
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:LABEL_CHARS])
            word = word[LABEL_CHARS:]
        candidate = f"{current} {word}".strip()
        if len(candidate) <= LABEL_CHARS:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > LABEL_LINES:
        lines = lines[:LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_CHARS - 1] + "…"
    return lines


def _layout(boxes: dict[str, _Box], arcs: list[_Arc], input_id: str | None) -> tuple[float, float]:
    """Place every box and route every arc; returns the drawing's width and height."""
    vertices = {}
    for box in boxes.values():
        vertex = Vertex(box.id)
        vertex.view = _View(w=box.h, h=box.w)  # top-down frame: layer axis is our x
        vertices[box.id] = vertex
    edges = []
    for arc in arcs:
        edge = Edge(vertices[arc.source], vertices[arc.target], data=arc)
        edge.view = _EdgeView()
        edges.append(edge)
    graph = Graph(list(vertices.values()), edges)
    top = MARGIN
    width = 0.0
    for component in graph.C:
        layout = SugiyamaLayout(component)
        layout.xspace, layout.yspace = NODE_GAP, LAYER_GAP
        roots = [v for v in component.sV if v.data == input_id] or [
            v for v in component.sV if not v.e_in()
        ] or [component.sV[0]]
        layout.init_all(roots=roots, optimize=True)
        layout.draw(3)
        # grandalf (x, y) -> ours (y, x): layers run left to right.
        routes = [getattr(e.view, "points", None) or [e.v[0].view.xy, e.v[1].view.xy] for e in component.sE]
        route_points = [(y, x) for route in routes for x, y in route]
        xs = [v.view.xy[1] - v.view.h / 2 for v in component.sV] + [x for x, _ in route_points]
        ys = [v.view.xy[0] - v.view.w / 2 for v in component.sV] + [y for _, y in route_points]
        dx, dy = MARGIN - min(xs), top - min(ys)
        bottom = max(y for _, y in route_points) + dy if route_points else top
        for vertex in component.sV:
            box = boxes[vertex.data]
            box.x, box.y = vertex.view.xy[1] + dx, vertex.view.xy[0] + dy
            bottom = max(bottom, box.y + box.h / 2)
            width = max(width, box.x + box.w / 2 + MARGIN)
        for edge, route in zip(component.sE, routes, strict=True):
            edge.data.points = [(y + dx, x + dy) for x, y in route]
        top = bottom + COMPONENT_GAP
    return width, top - COMPONENT_GAP + MARGIN


def _clip(box: _Box, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the segment from the box's shape centre toward `toward` leaves the shape."""
    ux, uy = toward[0] - box.x, toward[1] - box.y
    length = math.hypot(ux, uy) or 1.0
    ux, uy = ux / length, uy / length
    if box.kind == "condition":
        return box.x + ux * RADIUS, box.y + uy * RADIUS
    half_w = TASK_SIZE / 2 + DECORATION
    half_h = TASK_SIZE / 2
    scale = min(half_w / abs(ux) if ux else math.inf, half_h / abs(uy) if uy else math.inf)
    return box.x + ux * scale, box.y + uy * scale


# --------------------------------------------------------------------------- drawing


def _dom_safe(text: str) -> str:
    """An XML-name-safe fragment for ids."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text) or "_"


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


class _NetDrawing:
    """Lays out one net and writes its SVG."""

    def __init__(self, net: Net, dom_id: str, overlay: _NetOverlay | None, spec_name: str) -> None:
        self.net, self.dom_id, self.overlay, self.spec_name = net, dom_id, overlay, spec_name
        self.boxes: dict[str, _Box] = {}
        self.arcs: list[_Arc] = []
        self.node_dom: dict[str, str] = {}
        self._collect()
        self.width, self.height = _layout(self.boxes, self.arcs, self.input_id)

    # -- model -> boxes and arcs
    def _collect(self) -> None:
        self.input_id = next((c.id for c in self.net.conditions if c.type == "input"), None)
        for condition in self.net.conditions:
            lines = _wrap(_condition_label(condition.id, condition.name, condition.type))
            self._add_box(_Box(condition.id, "condition", lines, 2 * RADIUS, NODE_HEIGHT,
                               condition_type=condition.type))  # fmt: skip
        for task in self.net.tasks:
            self._add_box(_Box(task.id, "task", _wrap(task.name or task.id), TASK_SIZE + 2 * DECORATION,
                               NODE_HEIGHT, task=task))  # fmt: skip
        for source in (*self.net.conditions, *self.net.tasks):
            for flow in source.flows:
                if flow.to not in self.boxes:  # a dangling flow (verification reports it): show the gap
                    self._add_box(_Box(flow.to, "missing", _wrap(f"? {flow.to}"), 2 * RADIUS, NODE_HEIGHT))
                self.arcs.append(_Arc(source.id, flow.to, flow.predicate, flow.default))

    def _add_box(self, box: _Box) -> None:
        box.w = max(box.w, min(LABEL_CHARS, max((len(line) for line in box.label_lines), default=0)) * CHAR_WIDTH)
        self.boxes.setdefault(box.id, box)
        self.node_dom.setdefault(box.id, f"{self.dom_id}-n{len(self.node_dom)}")

    # -- SVG
    def svg(self) -> str:
        title_id, desc_id = f"{self.dom_id}-title", f"{self.dom_id}-desc"
        label = f"Workflow net {self.net.name or self.net.id}"
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="net-diagram" id="{self.dom_id}" role="img" '
            f'aria-labelledby="{title_id} {desc_id}" width="{_fmt(self.width)}" height="{_fmt(self.height)}" '
            f'viewBox="0 0 {_fmt(self.width)} {_fmt(self.height)}" data-net="{escape(self.net.id)}">',
            f'<title id="{title_id}">{escape(label)}</title>',
            f'<desc id="{desc_id}">{escape(self._description())}</desc>',
            f"<style>{DIAGRAM_CSS}</style>",
            "<defs>"
            f'<marker id="{self.dom_id}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>'
            "</defs>",
            '<g class="regions">',
            *self._cancel_regions(),
            "</g>",
            '<g class="arcs">',
            *(self._arc(arc) for arc in self.arcs),
            "</g>",
            '<g class="nodes">',
            *(self._node(box) for box in self.boxes.values()),
            "</g>",
            "</svg>",
        ]
        return "\n".join(parts)

    def _description(self) -> str:
        tasks = self.net.tasks
        inputs = [c.id for c in self.net.conditions if c.type == "input"]
        outputs = [c.id for c in self.net.conditions if c.type == "output"]
        text = [
            f"Net {self.net.id} of {self.spec_name}: {len(tasks)} tasks, {len(self.net.conditions)} conditions, "
            f"{len(self.arcs)} flows. Input condition {', '.join(inputs) or 'missing'}; "
            f"output condition {', '.join(outputs) or 'missing'}."
        ]
        for task in tasks:
            text.append(f"Task {task.name or task.id}: {self._task_summary(task)}.")
        if self.overlay is not None:
            marked = [f"{node} ({count})" for node, count in sorted(self.overlay.tokens.items())]
            enabled = [t for t in self.overlay.items if self.overlay.item_state(t) == "enabled"]
            started = [t for t in self.overlay.items if self.overlay.item_state(t) == "started"]
            text.append(f"Tokens in: {', '.join(marked) or 'none'}. Enabled: {', '.join(enabled) or 'none'}. "
                        f"Running: {', '.join(started) or 'none'}.")  # fmt: skip
        return " ".join(text)

    def _task_summary(self, task: Task) -> str:
        facts = [f"{_CODES[task.join]}-join", f"{_CODES[task.split]}-split", task.kind]
        if task.multi_instance is not None:
            facts.append("multiple instance")
        if task.subnet:
            facts.append(f"runs net {task.subnet}")
        if task.cancels:
            facts.append("cancels " + ", ".join(task.cancels))
        targets = [flow.to for flow in task.flows]
        if targets:
            facts.append("flows to " + ", ".join(targets))
        return ", ".join(facts)

    def _in_degree(self, node_id: str) -> int:
        return sum(1 for arc in self.arcs if arc.target == node_id)

    def _node(self, box: _Box) -> str:
        dom = self.node_dom[box.id]
        if box.kind == "task":
            return self._task(box, dom)
        return self._condition(box, dom)

    def _label(self, box: _Box, top: float) -> str:
        lines = "".join(
            f'<tspan x="{_fmt(box.x)}" y="{_fmt(top + (i + 1) * LABEL_LINE - 3)}">{escape(line)}</tspan>'
            for i, line in enumerate(box.label_lines)
        )
        return f'<text class="label" text-anchor="middle">{lines}</text>' if lines else ""

    def _condition(self, box: _Box, dom: str) -> str:
        kind = box.condition_type if box.kind == "condition" else "missing"
        classes = f"node condition {kind}"
        tokens = self.overlay.tokens.get(box.id, 0) if self.overlay else 0
        if tokens:
            classes += " marked"
        x, y = box.x, box.y
        title = {"input": "Input condition", "output": "Output condition", "missing": "Missing node"}.get(
            kind, "Condition"
        ) + f" {box.id}" + (f" — {tokens} token{'s' * (tokens > 1)}" if tokens else "")
        parts = [
            f'<g class="{classes}" id="{dom}" data-node="{escape(box.id)}">',
            f"<title>{escape(title)}</title>",
            f'<circle class="shape" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{RADIUS}"/>',
        ]
        if kind == "input":
            parts.append(f'<path class="icon start" d="M{_fmt(x - 5)},{_fmt(y - 8)} L{_fmt(x + 8)},{_fmt(y)} '
                         f'L{_fmt(x - 5)},{_fmt(y + 8)} z"/>')  # fmt: skip
        elif kind == "output":
            parts.append(f'<rect class="icon stop" x="{_fmt(x - 7)}" y="{_fmt(y - 7)}" width="14" height="14"/>')
        if tokens:
            parts.append(self._token(x, y, tokens))
        parts.append(self._label(box, y + RADIUS + 2))
        parts.append("</g>")
        return "".join(parts)

    @staticmethod
    def _token(x: float, y: float, count: int) -> str:
        """A black token dot; more than one shows its count."""
        dot = f'<circle class="token" cx="{_fmt(x)}" cy="{_fmt(y)}" r="{7 if count > 1 else 5}"/>'
        if count > 1:
            dot += f'<text class="token-count" x="{_fmt(x)}" y="{_fmt(y + 3.5)}" text-anchor="middle">{count}</text>'
        return dot

    def _task(self, box: _Box, dom: str) -> str:
        task = box.task
        assert task is not None
        left, top = box.x - TASK_SIZE / 2, box.y - TASK_SIZE / 2
        classes = ["node", "task", task.kind]
        state = self.overlay.item_state(task.id) if self.overlay else None
        if state:
            classes.append(state)
        if task.multi_instance is not None:
            classes.append("multi-instance")
        if task.cancels:
            classes.append("cancelling")
        title = f"Task {task.name or task.id} ({task.id}): {self._task_summary(task)}"
        if state:
            title += f" — work item {state}"
        attrs = f' data-node="{escape(task.id)}"'
        if task.cancels:
            attrs += f' data-cancels="{self.dom_id}-cancel-{_dom_safe(task.id)}"'
        parts = [f'<g class="{" ".join(classes)}" id="{dom}"{attrs}>', f"<title>{escape(title)}</title>"]
        outer_left, outer_w = left - DECORATION, TASK_SIZE + 2 * DECORATION
        if task.multi_instance is not None:  # stacked boxes behind, up and to the right
            for offset in (6, 3):
                parts.append(f'<rect class="shape stack" x="{_fmt(outer_left + offset)}" y="{_fmt(top + offset)}" '
                             f'width="{outer_w}" height="{TASK_SIZE}"/>')  # fmt: skip
        parts.append(f'<rect class="shape" x="{_fmt(outer_left)}" y="{_fmt(top)}" width="{outer_w}" '
                     f'height="{TASK_SIZE}"/>')  # fmt: skip
        if task.kind == "composite":
            parts.append(f'<rect class="inner" x="{_fmt(outer_left + 3)}" y="{_fmt(top + 3)}" '
                         f'width="{outer_w - 6}" height="{TASK_SIZE - 6}"/>')  # fmt: skip
        if self._in_degree(task.id) > 1:
            parts.append(self._decoration(task.join, "join", left - DECORATION, top))
        if len(task.flows) > 1:
            parts.append(self._decoration(task.split, "split", left + TASK_SIZE, top))
        parts.append(self._glyph(task, box.x, box.y))
        if task.cancels:  # YAWL marks a cancelling task; here a small crossed circle at the top
            cx, cy = box.x, top + 7
            parts.append(f'<g class="cancel-mark"><circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="5"/>'
                         f'<path d="M{_fmt(cx - 3)},{_fmt(cy - 3)} L{_fmt(cx + 3)},{_fmt(cy + 3)} '
                         f'M{_fmt(cx + 3)},{_fmt(cy - 3)} L{_fmt(cx - 3)},{_fmt(cy + 3)}"/></g>')  # fmt: skip
        if self.overlay is not None:
            count = sum(self.overlay.items.get(task.id, {}).values())
            if count > 1:
                parts.append(f'<text class="item-count" x="{_fmt(left + TASK_SIZE - 3)}" '
                             f'y="{_fmt(top + TASK_SIZE - 4)}" text-anchor="end">×{count}</text>')  # fmt: skip
        parts.append(self._label(box, top + TASK_SIZE + (8 if task.multi_instance is not None else 2)))
        parts.append("</g>")
        return "".join(parts)

    @staticmethod
    def _glyph(task: Task, x: float, y: float) -> str:
        """A small sign of how the task is done: automated (gear), timer (clock); routing/manual: none."""
        glyphs = []
        if task.kind == "automated":
            glyphs.append(f'<text class="glyph" x="{_fmt(x)}" y="{_fmt(y + 6)}" text-anchor="middle">⚙</text>')
        if task.timer is not None:  # a clock face in the lower left corner
            cx, cy = x - TASK_SIZE / 2 + 8, y + TASK_SIZE / 2 - 8
            glyphs.append(f'<g class="timer"><circle cx="{_fmt(cx)}" cy="{_fmt(cy)}" r="5"/>'
                          f'<path d="M{_fmt(cx)},{_fmt(cy - 3.5)} L{_fmt(cx)},{_fmt(cy)} L{_fmt(cx + 2.5)},{_fmt(cy)}"/></g>')  # fmt: skip
        return "".join(glyphs)

    @staticmethod
    def _decoration(code: str, side: str, left: float, top: float) -> str:
        """YAWL's join/split decoration in a DECORATION-wide strip; AND points at the task body."""
        right, bottom, mid = left + DECORATION, top + TASK_SIZE, top + TASK_SIZE / 2
        inner, outer = (right, left) if side == "join" else (left, right)  # x next to / away from the body
        if code == "or":
            centre = (left + right) / 2
            shape = (f"M{_fmt(centre)},{_fmt(mid - 8)} L{_fmt(right - 1)},{_fmt(mid)} L{_fmt(centre)},{_fmt(mid + 8)} "
                     f"L{_fmt(left + 1)},{_fmt(mid)} z")  # fmt: skip
        else:
            apex, base = (inner, outer) if code == "and" else (outer, inner)
            shape = f"M{_fmt(base)},{_fmt(top)} L{_fmt(apex)},{_fmt(mid)} L{_fmt(base)},{_fmt(bottom)}"
        text_x = (left + right) / 2
        return (
            f'<g class="decoration {side} {code}" data-{side}="{code}">'
            f'<line x1="{_fmt(inner)}" y1="{_fmt(top)}" x2="{_fmt(inner)}" y2="{_fmt(bottom)}"/>'
            f'<path d="{shape}"/>'
            f'<text class="code" x="{_fmt(text_x)}" y="{_fmt(top - 3)}" text-anchor="middle">{_CODES[code]}</text>'
            "</g>"
        )

    def _arc(self, arc: _Arc) -> str:
        source, target = self.boxes[arc.source], self.boxes[arc.target]
        points = list(arc.points)
        points[0] = _clip(source, points[1] if len(points) > 2 else (target.x, target.y))
        points[-1] = _clip(target, points[-2] if len(points) > 2 else (source.x, source.y))
        path = "M" + " L".join(f"{_fmt(px)},{_fmt(py)}" for px, py in points)
        classes = "arc" + (" default" if arc.default else "") + (" predicate" if arc.predicate else "")
        title = f"Flow {arc.source} → {arc.target}"
        if arc.predicate:
            title += f" when {arc.predicate}"
        if arc.default:
            title += " (default)"
        parts = [
            f'<g class="{classes}" data-from="{escape(arc.source)}" data-to="{escape(arc.target)}">'
            f"<title>{escape(title)}</title>",
            f'<path d="{path}" marker-end="url(#{self.dom_id}-arrow)"/>',
        ]
        mid_a, mid_b = points[(len(points) - 1) // 2], points[(len(points) - 1) // 2 + 1]
        label = short_predicate(arc.predicate) if arc.predicate else ""
        if arc.default:
            label = f"{label} (default)".strip()
        if label:
            parts.append(self._arc_label(label, mid_a, mid_b))
        if self.overlay is not None and source.kind == "task" and target.kind == "task":
            tokens = self.overlay.tokens.get(implicit_condition_id(arc.source, arc.target), 0)
            if tokens:  # a token in the implicit condition sits on the arc, clear of the label
                tx, ty = mid_a[0] + (mid_b[0] - mid_a[0]) * 0.7, mid_a[1] + (mid_b[1] - mid_a[1]) * 0.7
                parts.append(f'<g class="implicit marked">{self._token(tx, ty, tokens)}</g>')
        parts.append("</g>")
        return "".join(parts)

    @staticmethod
    def _arc_label(label: str, a: tuple[float, float], b: tuple[float, float]) -> str:
        """A label beside the middle of segment a-b, on its upper side, running away from the line."""
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = math.hypot(dx, dy) or 1.0
        nx, ny = -dy / length, dx / length
        if ny > 0:
            nx, ny = -nx, -ny
        anchor = "middle" if abs(nx) < 0.35 else ("end" if nx < 0 else "start")
        x, y = (a[0] + b[0]) / 2 + nx * 6, (a[1] + b[1]) / 2 + ny * 6 - (2 if anchor == "middle" else 0)
        return f'<text class="predicate" x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="{anchor}">{escape(label)}</text>'

    def _cancel_regions(self) -> list[str]:
        """Per cancelling task, a hidden group outlining its cancellation set (shown on demand)."""
        regions = []
        for task in self.net.tasks:
            if not task.cancels:
                continue
            region_id = f"{self.dom_id}-cancel-{_dom_safe(task.id)}"
            parts = [f'<g class="cancel-region" id="{region_id}" data-task="{escape(task.id)}">']
            for member in task.cancels:
                box = self.boxes.get(member)
                if box is None:  # e.g. an implicit condition: outline the arc's middle
                    parts.extend(self._implicit_outline(member))
                    continue
                half_w = (TASK_SIZE / 2 + DECORATION if box.kind == "task" else RADIUS) + 6
                half_h = (TASK_SIZE / 2 if box.kind == "task" else RADIUS) + 6
                parts.append(f'<rect class="member" data-node="{escape(member)}" x="{_fmt(box.x - half_w)}" '
                             f'y="{_fmt(box.y - half_h)}" width="{_fmt(2 * half_w)}" height="{_fmt(2 * half_h)}" '
                             'rx="6"/>')  # fmt: skip
            canceller = self.boxes[task.id]
            half = TASK_SIZE / 2 + DECORATION + 6
            parts.append(f'<rect class="canceller" x="{_fmt(canceller.x - half)}" '
                         f'y="{_fmt(canceller.y - TASK_SIZE / 2 - 6)}" width="{_fmt(2 * half)}" '
                         f'height="{_fmt(TASK_SIZE + 12)}" rx="6"/>')  # fmt: skip
            parts.append("</g>")
            regions.append("".join(parts))
        return regions

    def _implicit_outline(self, condition_id: str) -> list[str]:
        for arc in self.arcs:
            if implicit_condition_id(arc.source, arc.target) == condition_id and len(arc.points) >= 2:
                a, b = arc.points[(len(arc.points) - 1) // 2], arc.points[(len(arc.points) - 1) // 2 + 1]
                mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
                return [f'<circle class="member" data-node="{escape(condition_id)}" cx="{_fmt(mx)}" '
                        f'cy="{_fmt(my)}" r="12"/>']  # fmt: skip
        return []
