"""Run the limiter scripts on Redis: one ``EVALSHA`` per decision, and one round trip for many decisions.

``ScriptRunner.run`` calls a script by its SHA1; when Redis answers ``NOSCRIPT`` (first use, a restart, a
failover, ``SCRIPT FLUSH``) it loads the script and tries once more. Every failure of the store (refused
connection, socket timeout, a script error) surfaces as ``RateLimitBackendError``, the one exception the
middleware's fail-open/fail-closed policy has to catch.

Auto-pipelining (on by default for a single ``redis.asyncio.Redis``): the decisions that concurrent requests
ask for within one event-loop tick are written to Redis together and their replies read together, so N
decisions cost one round trip instead of N, while each is still exactly one ``EVALSHA`` (ioredis calls this
``enableAutoPipelining``; https://github.com/redis/ioredis#autopipelining). Nothing waits for a batch to fill:
the batch is whatever arrived before the loop's next turn, so a lone request pays no extra latency. A
``RedisCluster`` client routes each ``EVALSHA`` to its slot's node itself, one round trip per decision.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Sequence
from typing import NamedTuple

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException, RedisError, ResponseError

from ratelimit.errors import RateLimitBackendError
from ratelimit.scripts import Script

# all that means "the store could not answer": RedisClusterException (e.g. a slot no node covers) is not a
# RedisError, and socket errors may escape redis-py as plain OSError/TimeoutError
STORE_ERRORS = (RedisError, RedisClusterException, OSError, TimeoutError)
MAX_BATCH = 512  # decisions per write; bounds the size of one write and of one reply buffer


def pack_evalsha(script: Script, keys: Sequence[bytes], args: Sequence[bytes]) -> bytes:
    """``EVALSHA sha numkeys key... arg...`` in the Redis protocol (RESP): an array of bulk strings."""
    parts = [_evalsha_head(script.sha, len(keys), len(args))]
    parts.extend(b"$%d\r\n%s\r\n" % (len(part), part) for part in (*keys, *args))
    return b"".join(parts)


@functools.cache
def _evalsha_head(sha: bytes, numkeys: int, numargs: int) -> bytes:
    """The array header, the command name, the SHA and the key count: the same for every call of a limiter."""
    count = b"%d" % numkeys
    return b"*%d\r\n$7\r\nEVALSHA\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
        3 + numkeys + numargs,
        len(sha),
        sha,
        len(count),
        count,
    )


class _Pending(NamedTuple):
    script: Script
    command: bytes
    future: asyncio.Future[object]


class ScriptRunner:
    """Shared by every limiter on one client: one script cache and one batch per event-loop tick."""

    def __init__(self, client: Redis | RedisCluster, *, auto_pipeline: bool = True) -> None:
        self.client = client
        self.auto_pipeline = auto_pipeline and isinstance(client, Redis)
        self._queue: list[_Pending] = []
        # batches in flight: the event loop keeps only weak references to tasks, so we hold them
        self._tasks: set[asyncio.Task[None]] = set()

    async def load_scripts(self, *scripts: Script) -> None:
        """``SCRIPT LOAD`` ahead of time (optional: the first ``NOSCRIPT`` does it anyway)."""
        try:
            for s in scripts:
                await self.client.script_load(s.source)
        except STORE_ERRORS as exc:
            raise RateLimitBackendError(f"loading rate-limit scripts failed: {exc}") from exc

    async def run(self, script: Script, keys: Sequence[bytes], args: Sequence[bytes]) -> object:
        """The script's reply; raises ``RateLimitBackendError`` when Redis could not give one."""
        if not self.auto_pipeline:
            return await self._run_direct(script, keys, args)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[object] = loop.create_future()
        if not self._queue:
            loop.call_soon(self._flush)  # after everything already runnable in this tick has queued too
        self._queue.append(_Pending(script, pack_evalsha(script, keys, args), future))
        return await future

    async def _run_direct(self, script: Script, keys: Sequence[bytes], args: Sequence[bytes]) -> object:
        try:
            try:
                return await self.client.evalsha(script.sha.decode(), len(keys), *keys, *args)
            except NoScriptError:
                await self.client.script_load(script.source)
                return await self.client.evalsha(script.sha.decode(), len(keys), *keys, *args)
        except STORE_ERRORS as exc:
            raise RateLimitBackendError(f"rate-limit script {script.name} failed: {exc}") from exc

    def _flush(self) -> None:
        queue, self._queue = self._queue, []
        for start in range(0, len(queue), MAX_BATCH):
            task = asyncio.get_running_loop().create_task(self._send(queue[start : start + MAX_BATCH]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Pending]) -> None:
        try:
            await self._send_batch(batch)
        except BaseException as exc:  # a bug or a shutdown must not leave callers waiting for ever
            error = RateLimitBackendError(f"rate-limit batch of {len(batch)} failed: {exc!r}")
            for pending in batch:
                _settle(pending.future, error)
            if not isinstance(exc, Exception):
                raise

    async def _send_batch(self, batch: list[_Pending]) -> None:
        for attempt in range(2):
            try:
                replies = await self._round_trip([p.command for p in batch])
            except STORE_ERRORS as exc:  # the connection failed, and so did every decision on it
                error = RateLimitBackendError(f"rate-limit batch of {len(batch)} failed: {exc!r}")
                for pending in batch:
                    _settle(pending.future, error)
                return
            missing: list[_Pending] = []
            for pending, reply in zip(batch, replies, strict=True):
                if isinstance(reply, NoScriptError) and attempt == 0:
                    missing.append(pending)
                elif isinstance(reply, ResponseError):
                    _settle(
                        pending.future,
                        RateLimitBackendError(f"rate-limit script {pending.script.name}: {reply}"),
                    )
                else:
                    _settle(pending.future, reply)
            if not missing:
                return
            try:
                await self.load_scripts(*{p.script for p in missing})
            except RateLimitBackendError as exc:
                for pending in missing:
                    _settle(pending.future, exc)
                return
            batch = missing

    async def _round_trip(self, commands: list[bytes]) -> list[object]:
        """Write all commands at once, then read one reply each (an error reply is returned, not raised)."""
        assert isinstance(self.client, Redis)  # auto_pipeline is only ever on for a single Redis
        pool = self.client.connection_pool
        connection = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.send_packed_command(b"".join(commands), check_health=False)
            replies: list[object] = []
            # one deadline for the whole batch rather than one per reply (math.inf turns off redis-py's own
            # per-read timeout); if it fires, redis-py drops the half-read connection instead of reusing it
            async with asyncio.timeout(connection.socket_timeout):
                for _ in commands:
                    try:
                        replies.append(await connection.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
            return replies
        finally:
            await pool.release(connection)


def _settle(future: asyncio.Future[object], outcome: object) -> None:
    if future.done():  # the caller gave up (e.g. its own timeout cancelled it): nobody to tell
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
