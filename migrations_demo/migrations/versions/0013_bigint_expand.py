"""int_to_bigint, expand: ``plays.id_new bigint`` kept equal to ``id`` by a trigger for every new write.

``ALTER COLUMN id TYPE bigint`` rewrites the table and rebuilds every index under ACCESS EXCLUSIVE: minutes of
total outage on a big table. Instead: a new column synced by trigger, ``python -m migrations_demo.backfill
plays_id_new`` for the old rows, a validated NOT NULL check and a unique index built concurrently (0014,
0015), then a swap in one short transaction (0016), then the old column goes (0017).
"""

from migrations_demo.ops import run_ddl

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    run_ddl(
        # the function first: it locks nothing, so the lock on plays below is held as briefly as possible
        "CREATE FUNCTION plays_sync_id_new() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN NEW.id_new := NEW.id; RETURN NEW; END\n$$",
        "ALTER TABLE plays ADD COLUMN id_new bigint",
        "CREATE TRIGGER plays_sync_id_new BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_id_new()",
    )


def downgrade() -> None:
    run_ddl(
        "DROP TRIGGER IF EXISTS plays_sync_id_new ON plays",
        "DROP FUNCTION IF EXISTS plays_sync_id_new()",
        "ALTER TABLE plays DROP COLUMN IF EXISTS id_new",
    )
