"""Count what a redis-py client actually writes: round trips and the commands in them, read off the wire.

The benchmark's ``redis_roundtrips_per_decision`` and ``redis_commands_per_decision`` come from here (and are
cross-checked against the server's ``INFO commandstats``), so they are measured, not assumed. Every write a
client makes is followed by reading the replies to it, so one ``send_packed_command`` is one round trip; the
commands in it are counted by walking the RESP arrays in the bytes sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from redis.asyncio.connection import Connection


@dataclass
class WireCounts:
    round_trips: int = 0
    commands: Counter[str] = field(default_factory=Counter)

    def record(self, payload: bytes) -> None:
        self.round_trips += 1
        self.commands.update(command_names(payload))

    def reset(self) -> None:
        self.round_trips = 0
        self.commands.clear()

    @property
    def total_commands(self) -> int:
        return sum(self.commands.values())


def command_names(payload: bytes) -> list[str]:
    """The name of every command in a RESP payload: ``*<n>\\r\\n`` then n ``$<len>\\r\\n<bytes>\\r\\n``."""
    names: list[str] = []
    pos = 0
    while pos < len(payload):
        if payload[pos : pos + 1] != b"*":
            raise ValueError(f"not a RESP command array at byte {pos}")
        end = payload.index(b"\r\n", pos)
        parts, pos = int(payload[pos + 1 : end]), end + 2
        for index in range(parts):
            end = payload.index(b"\r\n", pos)
            length, pos = int(payload[pos + 1 : end]), end + 2
            if index == 0:
                names.append(payload[pos : pos + length].decode().upper())
            pos += length + 2
    return names


def counting_connection(counts: WireCounts) -> type[Connection]:
    """A ``Connection`` class to pass as ``connection_class=`` that records every write into ``counts``."""

    class CountingConnection(Connection):
        async def send_packed_command(
            self, command: bytes | str | Iterable[bytes], check_health: bool = True
        ) -> None:
            if isinstance(command, str):
                payload = command.encode()
            elif isinstance(command, bytes):
                payload = command
            else:
                payload = b"".join(command)
            counts.record(payload)
            await super().send_packed_command(payload, check_health)

    return CountingConnection
