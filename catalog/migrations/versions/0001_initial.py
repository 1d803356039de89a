"""The catalog as first written: tables, primary keys, foreign keys and one unique handle, no more.

PostgreSQL indexes primary keys and unique constraints, never foreign keys, so ``tracks.artist_id``,
``playlists.owner_id`` and the library's sort order start unindexed. That is the schema ``/v1`` is measured
on.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

BigId = sa.BigInteger()
Timestamp = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, sa.Identity(), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("handle", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "artists",
        _id(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
    )
    op.create_table(
        "albums",
        _id(),
        sa.Column("artist_id", BigId, sa.ForeignKey("artists.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("cover_url", sa.String(300), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
    )
    op.create_table(
        "tracks",
        _id(),
        sa.Column("album_id", BigId, sa.ForeignKey("albums.id"), nullable=False),
        sa.Column("artist_id", BigId, sa.ForeignKey("artists.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("explicit", sa.Boolean(), nullable=False),
        sa.Column("popularity", sa.Integer(), nullable=False),
        sa.Column("isrc", sa.String(12), nullable=False),
        sa.Column("preview_url", sa.String(300), nullable=False),
        sa.Column("released_at", Timestamp, nullable=False),
    )
    op.create_table(
        "playlists",
        _id(),
        sa.Column("owner_id", BigId, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", Timestamp, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "playlist_tracks",
        sa.Column("playlist_id", BigId, sa.ForeignKey("playlists.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("track_id", BigId, sa.ForeignKey("tracks.id"), nullable=False),
        sa.Column("added_at", Timestamp, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "library_tracks",
        sa.Column("user_id", BigId, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("track_id", BigId, sa.ForeignKey("tracks.id"), primary_key=True),
        sa.Column("saved_at", Timestamp, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    for table in ("library_tracks", "playlist_tracks", "playlists", "tracks", "albums", "artists", "users"):
        op.drop_table(table)
