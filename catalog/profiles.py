"""Just-in-time catalog profiles: the gateway owns accounts, the catalog owns what a user has in it.

A user signs up at the gateway, whose token carries their id as ``sub``; the catalog keeps its own
``users`` row (handle, display name) for the same id. Rather than a second, synchronous "create profile"
call at sign-up (one more thing to fail between two services), the catalog creates the profile on the first
write of a verified token: the signature and audience were checked, so the id is the gateway's.
``ON CONFLICT DO NOTHING`` makes two first writes racing each other harmless. (The id is given explicitly,
so the identity sequence does not move: the catalog never numbers users itself outside the seed.)
"""

from __future__ import annotations

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.models import User
from observability import ApiError


async def ensure_profile(session: AsyncSession, user_id: int) -> None:
    """Make sure ``user_id`` has a catalog profile, creating a default one; 403 if that is impossible."""
    if (await session.execute(select(User.id).where(User.id == user_id))).first() is not None:
        return
    values = {"id": user_id, "handle": f"member-{user_id}", "display_name": f"Member {user_id}"}
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    statement: Insert = dialect.insert(User).values(values).on_conflict_do_nothing()
    await session.execute(statement)
    if (await session.execute(select(User.id).where(User.id == user_id))).first() is None:
        # the default handle belongs to someone else: refuse rather than guess another one
        raise ApiError(403, "unknown_user", f"user {user_id} has no catalog profile and none could be made")
