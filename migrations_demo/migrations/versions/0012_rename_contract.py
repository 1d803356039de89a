"""rename_column, contract: validate the new column's check, stop mirroring, drop ``ms_played``.

Deploy order: this runs only once every instance runs v3, which neither reads nor writes ``ms_played``.
Rollback before this point is "redeploy v1": the old column is still there and kept in sync. The downgrade
restores the column, the trigger and (in batches) the data.
"""

from migrations_demo.ops import ensure_backfilled, run_autocommit, run_ddl

revision = "0012"
down_revision = "0011"

SYNC_FUNCTION = """CREATE FUNCTION plays_sync_played_ms() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.played_ms := COALESCE(NEW.played_ms, NEW.ms_played);
        NEW.ms_played := COALESCE(NEW.ms_played, NEW.played_ms);
    ELSIF NEW.played_ms IS DISTINCT FROM OLD.played_ms THEN
        NEW.ms_played := NEW.played_ms;
    ELSIF NEW.ms_played IS DISTINCT FROM OLD.ms_played THEN
        NEW.played_ms := NEW.ms_played;
    END IF;
    RETURN NEW;
END
$$"""


def upgrade() -> None:
    ensure_backfilled("plays_played_ms")
    run_ddl("ALTER TABLE plays VALIDATE CONSTRAINT plays_played_ms_nonnegative", non_blocking=True)
    run_ddl(
        "DROP TRIGGER plays_sync_played_ms ON plays",
        "-- the trigger that used it is gone; no client calls it\n-- squawk-ignore ban-drop-function\n"
        "DROP FUNCTION plays_sync_played_ms()",
        "-- contract step: only v3 runs now, and v3 never touches ms_played\n"
        "-- squawk-ignore ban-drop-column\n"
        "ALTER TABLE plays DROP COLUMN ms_played",
    )


def downgrade() -> None:
    run_ddl(
        SYNC_FUNCTION,
        "ALTER TABLE plays ADD COLUMN ms_played bigint",
        "ALTER TABLE plays ADD CONSTRAINT plays_ms_played_nonnegative CHECK (ms_played >= 0) NOT VALID",
        "CREATE TRIGGER plays_sync_played_ms BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_played_ms()",
    )
    ensure_backfilled("plays_ms_played")
    run_autocommit("ALTER TABLE plays VALIDATE CONSTRAINT plays_ms_played_nonnegative")
