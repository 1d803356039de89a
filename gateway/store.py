"""Users and refresh tokens in the database: every statement is built by SQLAlchemy with bound parameters.

Rotation is one conditional ``UPDATE ... WHERE used_at IS NULL AND revoked_at IS NULL AND expires_at > now``:
of two requests racing with the same token exactly one updates the row, so a token is redeemed at most once
without a lock or a read-modify-write window. The loser (or a thief replaying an old token) finds the row used
and revokes the whole family, which also logs out the party that won: the safe outcome when a refresh token
has been copied (RFC 9700 section 4.14.2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.models import RefreshToken, User


class UsernameTakenError(Exception):
    pass


class RefreshRejectedError(Exception):
    """Unknown, expired, revoked or reused; ``reused`` says whether the family was revoked for it."""

    def __init__(self, message: str, *, reused: bool = False) -> None:
        super().__init__(message)
        self.reused = reused


@dataclass(frozen=True)
class Grant:
    user_id: int
    scopes: tuple[str, ...]
    refresh_token: str


def token_hash(token: str) -> str:
    # a fast hash is right here: the token has 256 random bits, so nobody brute-forces it back from the hash
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class Store:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], refresh_ttl_s: int) -> None:
        self.sessions = sessions
        self.refresh_ttl = timedelta(seconds=refresh_ttl_s)

    async def create_user(self, username: str, password_hash: str, scopes: tuple[str, ...]) -> int:
        user = User(
            username=username, password_hash=password_hash, scopes=" ".join(scopes), created_at=_now()
        )
        async with self.sessions() as session:
            session.add(user)
            try:
                await session.commit()
            except IntegrityError:
                raise UsernameTakenError(username) from None
            return user.id

    async def user_by_name(self, username: str) -> User | None:
        async with self.sessions() as session:
            return (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()

    async def update_password_hash(self, user_id: int, password_hash: str) -> None:
        async with self.sessions.begin() as session:
            await session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))

    async def list_users(self, limit: int) -> list[User]:
        async with self.sessions() as session:
            return list((await session.execute(select(User).order_by(User.id).limit(limit))).scalars())

    async def start_family(self, user_id: int, scopes: tuple[str, ...]) -> Grant:
        async with self.sessions.begin() as session:
            token = self._add(session, user_id, scopes, secrets.token_hex(16))
        return Grant(user_id, scopes, token)

    async def rotate(self, presented: str) -> Grant:
        digest, now = token_hash(presented), _now()
        async with self.sessions.begin() as session:
            won = await session.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == digest,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.expires_at > now,
                )
                .values(used_at=now)
                .returning(RefreshToken.family_id, RefreshToken.user_id, RefreshToken.scopes)
            )
            row = won.one_or_none()
            if row is not None:
                scopes = tuple(row.scopes.split())
                token = self._add(session, row.user_id, scopes, row.family_id)
                return Grant(row.user_id, scopes, token)
            old = (
                await session.execute(select(RefreshToken).where(RefreshToken.token_hash == digest))
            ).scalar_one_or_none()
            if old is None:
                raise RefreshRejectedError("unknown refresh token")
            reused = old.used_at is not None and old.revoked_at is None
            if reused:
                await self._revoke_family(session, old.family_id, now)
        # the revocation committed (leaving the transaction above); now tell the caller
        if reused:
            raise RefreshRejectedError(
                "refresh token reused: every token of this login is revoked", reused=True
            )
        raise RefreshRejectedError("refresh token expired or revoked")

    async def revoke(self, presented: str) -> bool:
        """Logout: revoke the family of ``presented``; ``False`` when the token is unknown."""
        async with self.sessions.begin() as session:
            family = (
                await session.execute(
                    select(RefreshToken.family_id).where(RefreshToken.token_hash == token_hash(presented))
                )
            ).scalar_one_or_none()
            if family is None:
                return False
            await self._revoke_family(session, family, _now())
            return True

    def _add(self, session: AsyncSession, user_id: int, scopes: tuple[str, ...], family_id: str) -> str:
        token = secrets.token_urlsafe(32)
        now = _now()
        session.add(
            RefreshToken(
                token_hash=token_hash(token),
                family_id=family_id,
                user_id=user_id,
                scopes=" ".join(scopes),
                created_at=now,
                expires_at=now + self.refresh_ttl,
            )
        )
        return token

    @staticmethod
    async def _revoke_family(session: AsyncSession, family_id: str, now: datetime) -> None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
