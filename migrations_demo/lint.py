"""Static review: squawk over the SQL that ``alembic upgrade --sql`` emits for each safe revision, and
over each naive twin. ``python -m migrations_demo.lint`` prints both.

A linter and a load test answer different questions: squawk (squawkhq.com) says a migration *looks* safe, the
harness shows what clients see while it runs. The safe revisions pass with their deliberate exceptions
explained inline (``-- squawk-ignore RULE`` under a comment saying why); every naive twin is flagged.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from migrations_demo import chain
from migrations_demo.naive import NAIVE, as_script

PG_VERSION = (
    "14.0"  # the oldest PostgreSQL the demo supports (pg_locks.waitstart): no rule relaxed for newer ones
)
LINT_SCHEMA = "migrations_demo"
# Alembic's own bookkeeping table (VARCHAR(32) by Alembic's choice) is not a migration we wrote: left out.
_VERSION_TABLE_DDL = re.compile(r"CREATE TABLE \S*alembic_version \(.*?\);\n", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    rule: str
    line: int
    message: str


def squawk_path() -> str:
    beside_python = Path(sys.executable).parent / "squawk"
    found = shutil.which("squawk") or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        raise FileNotFoundError("squawk not found: pip install squawk-cli (it is in the dev extra)")
    return found


def squawk(sql_text: str, name: str) -> list[Finding]:
    """Run squawk on one SQL script; every warning and error it reports."""
    with tempfile.TemporaryDirectory(prefix="squawk-") as tmp:
        path = Path(tmp) / f"{name}.sql"
        path.write_text(sql_text, encoding="utf-8")
        done = subprocess.run(
            [squawk_path(), "--reporter", "json", "--pg-version", PG_VERSION, str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise RuntimeError(f"squawk failed on {name}: {done.stderr.strip() or done.stdout.strip()}")
    return [Finding(d["rule_name"], int(d["line"]) + 1, d["message"]) for d in json.loads(done.stdout)]


def revision_sql(revision: str) -> str:
    """The SQL ``alembic upgrade <previous>:<revision> --sql`` prints for one revision."""
    ordered = chain.revisions()
    index = ordered.index(revision)
    previous = ordered[index - 1] if index else "base"
    return _VERSION_TABLE_DDL.sub("", chain.offline_sql(LINT_SCHEMA, previous, revision))


def lint_safe() -> dict[str, list[Finding]]:
    return {rev: squawk(revision_sql(rev), f"revision_{rev}") for rev in chain.revisions()}


def lint_naive() -> dict[str, list[Finding]]:
    return {name: squawk(as_script(name), f"naive_{name}") for name in NAIVE}


def main() -> int:
    safe, naive = lint_safe(), lint_naive()
    for rev, findings in safe.items():
        print(f"safe revision {rev}: " + (", ".join(sorted({f.rule for f in findings})) or "clean"))
    for name, findings in naive.items():
        print(f"naive {name}: flagged by " + ", ".join(sorted({f.rule for f in findings})))
    clean = not any(safe.values()) and all(naive.values())
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
