"""The algorithm suite on a 3-primary Redis Cluster, and why the keys' hash tags are not optional there."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot

from ratelimit.decision import Limit
from ratelimit.errors import RateLimitBackendError
from ratelimit.redis_backend import RedisLimiter
from ratelimit.runner import ScriptRunner
from ratelimit.scripts import script
from tests.ratelimit.algorithms_support import AlgorithmSuite, Backend, redis_backend


class TestRedisClusterBackend(AlgorithmSuite):
    pytestmark = pytest.mark.integration

    @pytest.fixture
    def backend(self, limiter_cluster: RedisCluster) -> Backend:
        # no tag in the prefix, so each identity's keys land in their own slot, spread over the three nodes
        return redis_backend(limiter_cluster, f"t_{uuid.uuid4().hex[:12]}:")


@pytest.mark.integration
async def test_the_cluster_spreads_identities_over_all_primaries(limiter_cluster: RedisCluster) -> None:
    """Per-identity tags shard the limiter: many identities use every node, each identity one slot."""
    limiter = RedisLimiter(
        ScriptRunner(limiter_cluster),
        "sliding_window_counter",
        Limit(5, 60),
        prefix=f"t_{uuid.uuid4().hex[:12]}:",
    )
    nodes = set()
    for n in range(30):
        identity = f"user-{n}"
        assert (await limiter.hit(identity)).allowed
        even, odd = limiter.keys_for(identity)
        assert key_slot(even.encode()) == key_slot(odd.encode())
        node = limiter_cluster.get_node_from_key(even)
        assert node is not None
        nodes.add(node.name)
    assert len(nodes) == 3


@pytest.mark.integration
async def test_a_script_whose_keys_span_two_slots_is_refused_by_the_cluster(
    limiter_cluster: RedisCluster,
) -> None:
    """Without a shared hash tag the two window keys fall in two slots, and Cluster refuses the script."""
    untagged = [b"swc:alice:even", b"swc:alice:odd"]
    assert key_slot(untagged[0]) != key_slot(untagged[1])
    runner = ScriptRunner(limiter_cluster)
    with pytest.raises(RateLimitBackendError, match=r"(?i)slot"):
        await runner.run(script("sliding_window_counter"), untagged, (b"5", b"60000000", b"1"))
