"""Redis key names: one ``{hash tag}`` per identity, so every script touches exactly one Cluster slot.

Redis Cluster hashes only the part of a key between the first ``{`` and the next ``}`` when it is not empty
(https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags). A script may only
touch keys of one slot, and ``sliding_window_counter`` touches two keys, so every key of one identity is built
as ``<prefix>{<identity>}:<algorithm>[:even|:odd]``. Braces inside an identity are escaped, so the tag always
ends where we put it; a prefix may carry a tag of its own (tests do, to keep a test's keys together), and then
that tag rules.
"""

from __future__ import annotations

from ratelimit.decision import Algorithm

SUFFIXES: dict[Algorithm, tuple[str, ...]] = {
    "fixed_window": (":fixed_window",),
    "sliding_window_log": (":sliding_window_log",),
    "sliding_window_counter": (":sliding_window_counter:even", ":sliding_window_counter:odd"),
    "gcra": (":gcra",),
}
_ESCAPES = str.maketrans({"%": "%25", "{": "%7B", "}": "%7D"})


def check_prefix(prefix: str) -> str:
    """A prefix whose first ``{`` opens an empty tag would make Redis hash whole keys and split the pair."""
    opening = prefix.find("{")
    if opening != -1 and prefix[opening + 1 : opening + 2] == "}":
        raise ValueError(f"key prefix {prefix!r} starts an empty hash tag '{{}}'")
    return prefix


def tagged(prefix: str, identity: str) -> str:
    """``<prefix>{<identity>}``: the part every key of ``identity`` starts with, hash tag included."""
    if not identity:
        raise ValueError("a rate-limit key must name someone (got an empty identity)")
    if "{" in identity or "}" in identity or "%" in identity:  # rare: skip translate() on the hot path
        identity = identity.translate(_ESCAPES)
    return f"{prefix}{{{identity}}}"


def redis_keys(prefix: str, algorithm: Algorithm, identity: str) -> tuple[str, ...]:
    """The keys ``algorithm`` keeps for ``identity``; all in one hash slot."""
    base = tagged(prefix, identity)
    return tuple(base + suffix for suffix in SUFFIXES[algorithm])
