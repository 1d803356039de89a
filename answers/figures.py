"""Figure references: measured numbers quoted in answers, tied to the results file that measured them.

An answer never types a measured number by hand. It writes ``**VALUE** <!-- fig: topic.path.to.key -->``,
where ``topic`` names ``results/<topic>.json`` and the dotted path walks into it; list items are picked with
filters (``runs[migration=add_column,mode=safe].p99_ms``) or an index (``runs[0]``). An optional format spec
follows a bar (``<!-- fig: topic.path | .1% -->``). The HTML comment is invisible once rendered, so the answer
reads normally, while :func:`sync` can rewrite every quoted value from ``results/`` and :func:`check` can fail
a test when a value is stale or its key no longer exists. Pure logic: the only I/O is reading the JSON files.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Scalar = int | float | bool | str

FIGURE_RE = re.compile(
    r"\*\*(?P<value>[^*\n]*)\*\*[ \t]*(?:\n[ \t]*)?"  # **VALUE**, maybe a soft line break, then
    r"<!--[ \t]*fig:[ \t]*(?P<key>[^|\n]*?)[ \t]*"  # <!-- fig: topic.path
    r"(?:\|[ \t]*(?P<spec>[^\n]*?)[ \t]*)?-->"  # optional | format spec, then -->
)
_TOPIC_RE = re.compile(r"[A-Za-z0-9_-]+")
_TOKEN_RE = re.compile(r"(?P<dot>\.)?(?:(?P<name>[^.\[\]\s|]+)|\[(?P<selector>[^\[\]]*)\])")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE_RE = re.compile(r"(`+).+?\1")


class FigureError(Exception):
    """A figure reference that cannot be resolved; the message says which key and why."""


class BadReferenceError(FigureError):
    """The reference itself is malformed (syntax, topic name, format spec)."""


class UnknownTopicError(FigureError):
    """``results/<topic>.json`` does not exist or is not valid JSON."""


class MissingKeyError(FigureError):
    """The path leads nowhere: a key, an index or a filter matches nothing."""


class AmbiguousFilterError(FigureError):
    """A ``[k=v]`` filter matches more than one list item."""


class NotAValueError(FigureError):
    """The path ends on an object, a list or null, which cannot be quoted."""


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Select:
    """``[k=v,k2=v2]``: the one list item whose fields all equal these values."""

    filters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Index:
    position: int


Step = Key | Select | Index


@dataclass(frozen=True)
class FigureRef:
    """One ``**VALUE** <!-- fig: key | spec -->`` in a document; ``start``/``end`` delimit VALUE."""

    value: str
    key: str
    spec: str | None
    line: int
    start: int
    end: int

    @property
    def topic(self) -> str:
        return self.key.split(".", 1)[0].split("[", 1)[0]


@dataclass(frozen=True)
class Change:
    line: int
    key: str
    old: str
    new: str


@dataclass(frozen=True)
class Problem:
    line: int
    key: str
    kind: str  # "stale", "missing" or "invalid"
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _mask_code(text: str) -> str:
    """Blank out fenced blocks and inline code (same length), so examples of the syntax are not references."""
    out: list[str] = []
    fence: str | None = None
    for line in text.splitlines(keepends=True):
        match = _FENCE_RE.match(line)
        if fence is None and match:
            fence = match.group(1)[0] * 3
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        elif fence is None:
            out.append(_INLINE_CODE_RE.sub(lambda m: " " * len(m.group(0)), line))
            continue
        out.append(re.sub(r"[^\n]", " ", line))
    return "".join(out)


def parse_refs(text: str) -> list[FigureRef]:
    """Every figure reference in a Markdown document, in order (code blocks and inline code are skipped)."""
    refs = []
    for match in FIGURE_RE.finditer(_mask_code(text)):
        start, end = match.span("value")
        refs.append(
            FigureRef(
                value=text[start:end],
                key=match.group("key"),
                spec=match.group("spec") or None,
                line=text.count("\n", 0, start) + 1,
                start=start,
                end=end,
            )
        )
    return refs


def parse_key(key: str) -> tuple[str, tuple[Step, ...]]:
    """``topic.a.b[k=v].c`` -> ("topic", (Key(a), Key(b), Select(((k, v),)), Key(c)))."""
    steps: list[Step] = []
    pos = 0
    while pos < len(key):
        match = _TOKEN_RE.match(key, pos)
        # a name needs a dot before it, except the topic at the very start
        needs_dot = pos > 0
        if match is None or (match.group("name") is not None and bool(match.group("dot")) != needs_dot):
            raise BadReferenceError(f"figure key {key!r} is malformed at character {pos + 1}")
        if match.group("selector") is not None:
            if match.group("dot") or pos == 0:
                raise BadReferenceError(f"figure key {key!r}: a [filter] must follow a key, without a dot")
            steps.append(_parse_selector(key, match.group("selector")))
        else:
            steps.append(Key(match.group("name")))
        pos = match.end()
    if not steps or not isinstance(steps[0], Key) or not _TOPIC_RE.fullmatch(steps[0].name):
        raise BadReferenceError(f"figure key {key!r} must start with a topic name (letters, digits, _ or -)")
    if len(steps) == 1:
        raise BadReferenceError(f"figure key {key!r} names a topic but no value inside it")
    return steps[0].name, tuple(steps[1:])


def _parse_selector(key: str, body: str) -> Step:
    body = body.strip()
    if re.fullmatch(r"-?\d+", body):
        return Index(int(body))
    filters = []
    for part in body.split(","):
        name, eq, value = part.partition("=")
        if not eq or not name.strip():
            raise BadReferenceError(f"figure key {key!r}: filter [{body}] must be [key=value,...] or [index]")
        filters.append((name.strip(), value.strip()))
    return Select(tuple(filters))


@dataclass
class ResultsStore:
    """Reads ``<results_dir>/<topic>.json`` once per topic."""

    results_dir: Path
    _cache: dict[str, Any] = field(default_factory=dict)

    def load(self, topic: str) -> Any:
        if topic not in self._cache:
            path = self.results_dir / f"{topic}.json"
            try:
                self._cache[topic] = json.loads(path.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise UnknownTopicError(f"no results file {path} (run `make bench-{topic}`)") from None
            except (OSError, ValueError) as exc:
                raise UnknownTopicError(f"results file {path} cannot be read as JSON: {exc}") from None
        return self._cache[topic]


def resolve(key: str, store: ResultsStore | Path) -> Scalar:
    """The value ``key`` points at; a :class:`FigureError` subclass says why when it points at nothing."""
    store = store if isinstance(store, ResultsStore) else ResultsStore(store)
    topic, steps = parse_key(key)
    try:
        node = store.load(topic)
    except UnknownTopicError as exc:
        raise UnknownTopicError(f"figure key {key!r}: {exc}") from None
    where = topic
    for step in steps:
        node = _step(node, step, key, where)
        where += f".{step.name}" if isinstance(step, Key) else _selector_text(step)
    if node is None or isinstance(node, dict | list):
        kind = "null" if node is None else type(node).__name__
        raise NotAValueError(f"figure key {key!r} points at a {kind}, not a number or text")
    if not isinstance(node, int | float | str):  # JSON has no other scalars, but say so if it ever does
        raise NotAValueError(f"figure key {key!r} points at an unsupported {type(node).__name__}")
    return node


def _selector_text(step: Select | Index) -> str:
    if isinstance(step, Index):
        return f"[{step.position}]"
    return "[" + ",".join(f"{k}={v}" for k, v in step.filters) + "]"


def _step(node: Any, step: Step, key: str, where: str) -> Any:
    if isinstance(step, Key):
        if not isinstance(node, dict):
            raise MissingKeyError(f"figure key {key!r}: {where} is not an object, so it has no {step.name!r}")
        if step.name not in node:
            known = ", ".join(sorted(node)[:12]) or "nothing"
            raise MissingKeyError(f"figure key {key!r}: {where} has no {step.name!r} (it has: {known})")
        return node[step.name]
    if not isinstance(node, list):
        raise MissingKeyError(
            f"figure key {key!r}: {where} is not a list, so {_selector_text(step)} cannot apply"
        )
    if isinstance(step, Index):
        if not -len(node) <= step.position < len(node):
            raise MissingKeyError(f"figure key {key!r}: {where} has {len(node)} items, no [{step.position}]")
        return node[step.position]
    hits = [item for item in node if isinstance(item, dict) and _all_match(item, step.filters)]
    if not hits:
        raise MissingKeyError(f"figure key {key!r}: no item of {where} matches {_selector_text(step)}")
    if len(hits) > 1:
        raise AmbiguousFilterError(
            f"figure key {key!r}: {len(hits)} items of {where} match {_selector_text(step)}; "
            "add fields to the filter until one matches"
        )
    return hits[0]


def _all_match(item: dict[str, Any], filters: tuple[tuple[str, str], ...]) -> bool:
    return all(name in item and _equals(item[name], wanted) for name, wanted in filters)


def _equals(actual: Any, wanted: str) -> bool:
    """Filters are text; compare them with JSON values the way a reader would (1 == 1.0, true == True)."""
    if isinstance(actual, bool):
        return wanted.lower() == str(actual).lower()
    if isinstance(actual, int | float):
        try:
            return float(wanted) == float(actual)
        except ValueError:
            return False
    return str(actual) == wanted


def format_value(value: Scalar, spec: str | None = None) -> str:
    """How a value is quoted: the format spec if given, else thousands separators and sensible decimals."""
    if spec:
        try:
            text = format(value, spec)
        except (ValueError, TypeError) as exc:
            raise BadReferenceError(f"format spec {spec!r} does not apply to {value!r}: {exc}") from None
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        text = _format_float(value)
    else:
        text = value
    if "*" in text or "\n" in text:
        raise BadReferenceError(f"value {text!r} cannot be quoted between ** markers")
    return text


def _format_float(value: float) -> str:
    magnitude = abs(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if magnitude == 0:
        return "0"
    if magnitude < 0.001:
        return f"{value:.3g}"  # keep three significant digits rather than print 0.000
    decimals = 3 if magnitude < 1 else 2 if magnitude < 10 else 1 if magnitude < 100 else 0
    return f"{value:,.{decimals}f}"


def render(ref: FigureRef, store: ResultsStore | Path) -> str:
    """What ``ref`` should quote today."""
    return format_value(resolve(ref.key, store), ref.spec)


def check(text: str, results_dir: Path | ResultsStore) -> list[Problem]:
    """Every reference that is stale (quoted value differs from results/) or does not resolve."""
    store = results_dir if isinstance(results_dir, ResultsStore) else ResultsStore(results_dir)
    problems = []
    for ref in parse_refs(text):
        try:
            expected = render(ref, store)
        except (UnknownTopicError, MissingKeyError) as exc:
            problems.append(Problem(ref.line, ref.key, "missing", str(exc)))
            continue
        except FigureError as exc:
            problems.append(Problem(ref.line, ref.key, "invalid", str(exc)))
            continue
        if ref.value != expected:
            message = f"stale figure {ref.key!r}: quoted {ref.value!r}, results say {expected!r}"
            problems.append(Problem(ref.line, ref.key, "stale", message))
    return problems


def sync(text: str, results_dir: Path | ResultsStore) -> tuple[str, list[Change]]:
    """Rewrite every resolvable quoted value from results/; unresolvable ones are left for :func:`check`."""
    store = results_dir if isinstance(results_dir, ResultsStore) else ResultsStore(results_dir)
    changes: list[Change] = []
    pieces: list[str] = []
    last = 0
    for ref in parse_refs(text):
        try:
            new = render(ref, store)
        except FigureError:
            continue
        if new != ref.value:
            pieces += [text[last : ref.start], new]
            last = ref.end
            changes.append(Change(ref.line, ref.key, ref.value, new))
    pieces.append(text[last:])
    return "".join(pieces), changes
