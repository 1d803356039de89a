"""The four Lua scripts: read once from ``ratelimit/lua/``, addressed by their SHA1 as ``EVALSHA`` needs."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib import resources

from ratelimit.decision import ALGORITHMS, Algorithm


@dataclass(frozen=True, slots=True)
class Script:
    name: Algorithm
    source: bytes
    sha: bytes  # hex SHA1 of the source: what Redis calls the script by after SCRIPT LOAD

    @classmethod
    def read(cls, name: Algorithm) -> Script:
        source = (resources.files("ratelimit.lua") / f"{name}.lua").read_bytes()
        return cls(name, source, hashlib.sha1(source, usedforsecurity=False).hexdigest().encode())


@functools.cache
def script(name: Algorithm) -> Script:
    if name not in ALGORITHMS:
        raise ValueError(f"no script for {name!r}; choose one of {', '.join(ALGORITHMS)}")
    return Script.read(name)
