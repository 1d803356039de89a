"""The demo migrations: for each, where the chain stands before it, its safe steps and its naive twin.

A safe migration is more than one revision: the expand revision, then the backfill command, then (for a
rename) two rolling deploys of new app versions, then the contract revision. The harness runs these steps in
order while the load runs; ``Deploy`` switches which app versions the load simulates and waits one deploy's
length.
"""

from __future__ import annotations

from dataclasses import dataclass

from migrations_demo.naive import NAIVE


@dataclass(frozen=True)
class Upgrade:
    revision: str


@dataclass(frozen=True)
class Backfill:
    job: str


@dataclass(frozen=True)
class Deploy:
    versions: tuple[str, ...]


@dataclass(frozen=True)
class Sql:
    statements: tuple[str, ...]


Step = Upgrade | Backfill | Deploy | Sql


@dataclass(frozen=True)
class Migration:
    name: str
    before: str  # the revision the database is at when the migration starts
    app: str  # the app version running before it starts
    safe: tuple[Step, ...]
    naive: tuple[Step, ...]

    def steps(self, mode: str) -> tuple[Step, ...]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        return self.safe if mode == "safe" else self.naive


MODES = ("safe", "naive")


def _naive(name: str, *after: Step) -> tuple[Step, ...]:
    return (Sql(NAIVE[name].statements), *after)


MIGRATIONS: dict[str, Migration] = {
    m.name: m
    for m in (
        Migration(
            "add_column",
            before="0001",
            app="v1",
            safe=(Upgrade("0002"), Backfill("plays_public_id"), Upgrade("0004")),
            naive=_naive("add_column"),
        ),
        Migration("add_check", before="0004", app="v1", safe=(Upgrade("0006"),), naive=_naive("add_check")),
        Migration("add_index", before="0006", app="v1", safe=(Upgrade("0007"),), naive=_naive("add_index")),
        Migration(
            "add_foreign_key",
            before="0007",
            app="v1",
            safe=(Upgrade("0009"),),
            naive=_naive("add_foreign_key"),
        ),
        Migration("add_unique", before="0009", app="v1", safe=(Upgrade("0010"),), naive=_naive("add_unique")),
        Migration(
            "rename_column",
            before="0010",
            app="v1",
            safe=(
                Upgrade("0011"),  # expand: new column + mirroring trigger; v1 keeps running
                Backfill("plays_played_ms"),
                Deploy(("v1", "v2")),  # rolling deploy of v2 (reads new, writes both)
                Deploy(("v2",)),
                Deploy(("v2", "v3")),  # rolling deploy of v3 (new column only)
                Deploy(("v3",)),
                Upgrade("0012"),  # contract: drop the old column
            ),
            # the rename is instant, but the deploy of code that knows the new name is not
            naive=_naive("rename_column", Deploy(("v1", "v3")), Deploy(("v3",))),
        ),
        Migration(
            "int_to_bigint",
            before="0012",
            app="v3",
            safe=(Upgrade("0013"), Backfill("plays_id_new"), Upgrade("0017")),
            naive=_naive("int_to_bigint"),
        ),
    )
}


def step_name(step: Step) -> str:
    """A short label for reports: ``upgrade 0004``, ``backfill plays_public_id``, ``deploy v1+v2``."""
    match step:
        case Upgrade(revision):
            return f"upgrade {revision}"
        case Backfill(job):
            return f"backfill {job}"
        case Deploy(versions):
            return "deploy " + "+".join(versions)
        case Sql():
            return "naive SQL"
