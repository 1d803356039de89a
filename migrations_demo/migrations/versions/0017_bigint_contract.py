"""int_to_bigint, contract: stop mirroring, drop ``id_old`` once nobody will roll back to the int column."""

from migrations_demo.ops import ensure_backfilled, run_ddl

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    run_ddl(
        "DROP TRIGGER plays_sync_id_old ON plays",
        "-- the trigger that used it is gone; no client calls it\n-- squawk-ignore ban-drop-function\n"
        "DROP FUNCTION plays_sync_id_old()",
        "-- contract step: no code reads id_old, it only kept rollback possible\n"
        "-- squawk-ignore ban-drop-column\n"
        "ALTER TABLE plays DROP COLUMN id_old",
    )


def downgrade() -> None:
    run_ddl(
        "CREATE FUNCTION plays_sync_id_old() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN NEW.id_old := NEW.id; RETURN NEW; END\n$$",
        "ALTER TABLE plays ADD COLUMN id_old integer",
        "CREATE TRIGGER plays_sync_id_old BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_id_old()",
    )
    ensure_backfilled("plays_id_old")
