"""The listening history, normalised: users, a time-partitioned ``plays`` log, playlists and their followers.

- ``plays`` is range-partitioned by week on ``played_at``: a query for one week touches one partition
  (partition pruning), old weeks are dropped or archived by detaching a partition, not by a huge ``DELETE``.
  Weekly partitions are created ahead of time (``PostgresStore.ensure_partitions``; in production a scheduled
  job or pg_partman); the ``DEFAULT`` partition only catches plays outside them and should stay empty.
- Country is an attribute of the user, stored once in ``users``, not repeated on every play.
- ``track_id`` has no foreign key: tracks belong to the catalog service, and a key cannot span services.
- Indexes follow the reads: ``(user_id, played_at DESC)`` serves "last 50 plays" as one backward index range
  per partition; ``(track_id, user_id)`` answers "who played track X" from the index alone.
- ``playlists.follower_count`` is a denormalised counter whose invariant (it equals the number of rows in
  ``playlist_followers``) is kept by doing both changes in one transaction.
"""

from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        "CREATE TABLE users ("
        " user_id bigint PRIMARY KEY,"
        " country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'))"
    )
    op.execute("CREATE INDEX users_country_user ON users (country, user_id)")
    op.execute(
        "CREATE TABLE plays ("
        " user_id bigint NOT NULL REFERENCES users (user_id),"
        " track_id bigint NOT NULL,"
        " played_at timestamptz NOT NULL"
        ") PARTITION BY RANGE (played_at)"
    )
    op.execute("CREATE TABLE plays_default PARTITION OF plays DEFAULT")
    op.execute("CREATE INDEX plays_user_recent ON plays (user_id, played_at DESC)")
    op.execute("CREATE INDEX plays_track_user ON plays (track_id, user_id)")
    op.execute(
        "CREATE TABLE playlists ("
        " playlist_id bigint PRIMARY KEY,"
        " follower_count integer NOT NULL DEFAULT 0 CHECK (follower_count >= 0))"
    )
    op.execute(
        "CREATE TABLE playlist_followers ("
        " playlist_id bigint NOT NULL REFERENCES playlists (playlist_id) ON DELETE CASCADE,"
        " user_id bigint NOT NULL,"
        " followed_at timestamptz NOT NULL DEFAULT now(),"
        " PRIMARY KEY (playlist_id, user_id))"
    )


def downgrade() -> None:
    op.execute("DROP TABLE playlist_followers")
    op.execute("DROP TABLE playlists")
    op.execute("DROP TABLE plays")  # drops every partition with it
    op.execute("DROP TABLE users")
