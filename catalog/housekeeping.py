"""The catalog's periodic clean-up: expired ``Idempotency-Key`` rows (``idempotency.purge_expired``).

Every instance runs it from its lifespan, on its own clock. The DELETE is idempotent, so two instances
purging at once only repeat work. A failure (the database restarting, say) is logged and tried again at the
next interval: clean-up never takes the service down, and an expired key it has not reached yet is still
treated as expired (deleted, then acting afresh) by the next ``claim`` of it.
"""

from __future__ import annotations

import asyncio
import random

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from catalog.idempotency import purge_expired
from observability import get_logger

log = get_logger("catalog.housekeeping")


async def purge_idempotency_keys(sessions: async_sessionmaker[AsyncSession]) -> int:
    """One purge in its own transaction; how many keys went."""
    async with sessions() as session, session.begin():
        return await purge_expired(session)


async def run_purges(sessions: async_sessionmaker[AsyncSession], interval_s: float) -> None:
    """Purge every ``interval_s`` until cancelled, the first time after half to one whole interval.

    Not at start: a starting instance has better things to do, and a fleet restarted together would
    otherwise purge in lockstep, forever.
    """
    await asyncio.sleep(interval_s * random.uniform(0.5, 1.0))
    while True:
        try:
            if purged := await purge_idempotency_keys(sessions):
                log.info("idempotency_keys_purged", rows=purged)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("idempotency_purge_failed", error=type(exc).__name__, retry_in_s=interval_s)
        await asyncio.sleep(interval_s)
