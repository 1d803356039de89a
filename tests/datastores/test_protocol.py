"""Every implementation fits the one interface (mypy checks the assignments; the test checks the methods)."""

from __future__ import annotations

import inspect

import pytest

from datastores import NaiveRedisFollowers, PostgresStore, RedisStore, ReferenceStore
from datastores.protocol import FollowerStore, ListeningStore

pytestmark = pytest.mark.unit


def typed_as_the_interface(
    pg: PostgresStore, rs: RedisStore, ref: ReferenceStore, naive: NaiveRedisFollowers
) -> tuple[ListeningStore, ListeningStore, ListeningStore, FollowerStore]:
    return pg, rs, ref, naive  # a missing or mistyped method fails `mypy`, not a test at run time


def interface_methods(protocol: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(protocol, inspect.isfunction) if not name.startswith("_")}


@pytest.mark.parametrize("implementation", [PostgresStore, RedisStore, ReferenceStore])
def test_each_store_implements_every_operation_as_a_coroutine(implementation: type) -> None:
    for name in interface_methods(ListeningStore):
        assert inspect.iscoroutinefunction(getattr(implementation, name)), name


def test_the_naive_store_implements_only_the_follower_operations() -> None:
    assert interface_methods(FollowerStore) <= set(dir(NaiveRedisFollowers))
    assert not hasattr(NaiveRedisFollowers, "record_play")
