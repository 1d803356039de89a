"""rename_column, expand: ``plays.ms_played`` -> ``played_ms`` across app versions v1 -> v2 -> v3.

A one-step ``RENAME COLUMN`` is instant, and breaks every running instance of the old code at once: a deploy
is never atomic. Expand/contract instead: add the new column (with the old one's check, NOT VALID) and a
trigger that mirrors whichever column a client wrote, so v1 (old column only) and v2 (reads the new one,
writes both) are correct side by side; ``python -m migrations_demo.backfill plays_played_ms`` copies the old
rows; v3 stops writing the old column; 0012 drops it once no v1 or v2 runs.
"""

from migrations_demo.ops import run_ddl

revision = "0011"
down_revision = "0010"

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
    run_ddl(
        SYNC_FUNCTION,  # first: it locks nothing, so the lock on plays below is held as briefly as possible
        "ALTER TABLE plays ADD COLUMN played_ms bigint",
        "ALTER TABLE plays ADD CONSTRAINT plays_played_ms_nonnegative CHECK (played_ms >= 0) NOT VALID",
        "CREATE TRIGGER plays_sync_played_ms BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_played_ms()",
    )


def downgrade() -> None:
    run_ddl(
        "DROP TRIGGER IF EXISTS plays_sync_played_ms ON plays",
        "DROP FUNCTION IF EXISTS plays_sync_played_ms()",
        "ALTER TABLE plays DROP COLUMN IF EXISTS played_ms",
    )
