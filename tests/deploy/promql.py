"""Which series a PromQL expression reads, and which series exist, so the deploy tests can check that rules
and dashboards only query what `observability` exports or what our recording rules record."""

from __future__ import annotations

import re

from prometheus_client.metrics import MetricWrapperBase

from tests.deploy.layout import load_yaml, rule_files

# a metric name right before a selector or range: `name{`, `name[` or a bare `name` followed by an operator
_SERIES = re.compile(r"(?<![\w:\"$.])([a-zA-Z_:][\w:]*)\s*(?=[{\[)\s/*+-]|$)")
_LABEL_MATCHERS = re.compile(r"\{[^}]*\}")
_QUOTED = re.compile(r'"[^"]*"')
_NOT_SERIES = frozenset({
    "sum", "avg", "min", "max", "count", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "bool", "rate", "irate", "increase", "histogram_quantile", "topk", "bottomk",
    "avg_over_time", "max_over_time", "min_over_time", "sum_over_time", "label_values", "offset", "clamp_min",
    "clamp_max", "abs", "le", "service", "route", "status", "method", "alertname", "severity",
})  # fmt: skip
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}

# Series Prometheus itself creates for alerting rules.
PROMETHEUS_BUILTIN = frozenset({"ALERTS", "ALERTS_FOR_STATE"})


def referenced_series(expr: str) -> set[str]:
    """Metric names an expression selects (label matchers, strings and grouping labels left out)."""
    text = _QUOTED.sub('""', _LABEL_MATCHERS.sub("{}", expr))
    text = re.sub(r"\b(?:by|without|on|ignoring)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\[[^\]]*\]", "[]", text)
    return {name for name in _SERIES.findall(text) if name not in _NOT_SERIES and not name[0].isdigit()}


def recorded_series() -> set[str]:
    return {
        rule["record"]
        for path in rule_files()
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def exported_series() -> set[str]:
    """Sample names of the RED metrics `observability.metrics` defines (counters get `_total`, histograms
    `_bucket`/`_count`/`_sum`), read from the metric objects themselves rather than copied from API.md."""
    from observability import metrics  # noqa: PLC0415 - imported only by the tests that need it

    names: set[str] = set()
    for metric in vars(metrics).values():
        if isinstance(metric, MetricWrapperBase):
            for family in metric.describe():
                names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return names
