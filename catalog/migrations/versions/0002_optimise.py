"""Optimise: the composite and covering indexes the hot queries need, built without blocking writes.

- ``tracks (released_at, id)``: keyset pagination of new releases; a backward scan serves
  ``ORDER BY released_at DESC, id DESC`` and the row comparison ``(released_at, id) < (:r, :i)``.
- ``tracks (artist_id, popularity, id)``: the unindexed foreign key plus the sort of an artist's tracks.
- ``playlists (owner_id, id)``: the unindexed foreign key, in the order a user's playlists are listed.
- ``library_tracks (user_id, saved_at, track_id)``: covering, every column of a library page in page order,
  so PostgreSQL answers from the index alone (an index-only scan once the table is vacuumed).

``CREATE INDEX CONCURRENTLY`` takes no lock that blocks writes (Q2); it cannot run in a transaction, hence the
autocommit block. ``IF NOT EXISTS`` makes a retried, half-finished run safe.
"""

from alembic import op

revision = "0002"
down_revision = "0001"

INDEXES = (
    ("ix_tracks_released_at_id", "tracks", ("released_at", "id")),
    ("ix_tracks_artist_popularity_id", "tracks", ("artist_id", "popularity", "id")),
    ("ix_playlists_owner_id_id", "playlists", ("owner_id", "id")),
    ("ix_library_tracks_user_saved_track", "library_tracks", ("user_id", "saved_at", "track_id")),
)


def upgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, columns in INDEXES:
            op.create_index(name, table, list(columns), postgresql_concurrently=True, if_not_exists=True)
    for _name, table, _columns in INDEXES:
        op.execute(f"ANALYZE {table}")  # fresh statistics, so the planner sees the new indexes' worth


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, _columns in INDEXES:
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
