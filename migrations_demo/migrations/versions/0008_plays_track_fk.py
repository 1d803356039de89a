"""add_foreign_key: ``plays.track_id -> tracks.id`` added NOT VALID (no scan while both tables are locked).

Adding a foreign key takes SHARE ROW EXCLUSIVE on *both* tables, blocking their writes; validated at once it
holds that lock while it scans every play. ``NOT VALID`` makes the lock brief; 0009 validates separately.
The index on ``plays.track_id`` (0007) comes first, so deletes on ``tracks`` can find referencing rows.
"""

from migrations_demo.ops import run_ddl

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    run_ddl(
        "ALTER TABLE plays ADD CONSTRAINT plays_track_id_fkey"
        " FOREIGN KEY (track_id) REFERENCES tracks (id) NOT VALID"
    )


def downgrade() -> None:
    run_ddl("ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_track_id_fkey")
