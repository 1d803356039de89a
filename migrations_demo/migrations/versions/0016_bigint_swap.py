"""int_to_bigint, swap: in one short transaction ``id_new`` becomes the primary key and takes the name ``id``.

Every step here only touches the catalog: SET NOT NULL is proven by the validated check (no scan, PostgreSQL
12+), the primary key adopts the unique index built concurrently in 0015, and the renames happen inside the
transaction, so clients see a column called ``id`` before and after. The old column stays, mirrored by a
trigger, until 0017: until then "rollback" is this revision's downgrade, which swaps back the same way.
"""

from migrations_demo.ops import create_index_concurrently, run_autocommit, run_ddl

revision = "0016"
down_revision = "0015"

SYNC_ID_OLD = (
    "CREATE FUNCTION plays_sync_id_old() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN NEW.id_old := NEW.id; RETURN NEW; END\n$$"
)
SYNC_ID_NEW = (
    "CREATE FUNCTION plays_sync_id_new() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN NEW.id_new := NEW.id; RETURN NEW; END\n$$"
)
SWAPPED = "-- a swap inside one transaction: clients always see plays.id\n-- squawk-ignore renaming-column\n"
REPLACED = (
    "-- replaced within this transaction by the primary key on id_new\n-- squawk-ignore ban-drop-constraint\n"
)
MOVED = (
    "-- the default and NOT NULL move to id_new within this transaction\n-- squawk-ignore ban-drop-default\n"
)


def upgrade() -> None:
    run_ddl(
        SYNC_ID_OLD,  # first: it locks nothing, so the lock on plays below is held as briefly as possible
        "-- no scan: the check validated in 0015 proves there is no NULL (PostgreSQL 12+)\n"
        "-- squawk-ignore adding-not-nullable-field\n"
        "ALTER TABLE plays ALTER COLUMN id_new SET NOT NULL",
        REPLACED + "ALTER TABLE plays DROP CONSTRAINT IF EXISTS plays_id_new_not_null",
        REPLACED + "ALTER TABLE plays DROP CONSTRAINT plays_pkey",
        "ALTER TABLE plays ADD CONSTRAINT plays_pkey PRIMARY KEY USING INDEX plays_id_new_key",
        MOVED + "ALTER TABLE plays ALTER COLUMN id DROP DEFAULT",
        MOVED.replace("ban-drop-default", "ban-drop-not-null")
        + "ALTER TABLE plays ALTER COLUMN id DROP NOT NULL",
        "ALTER SEQUENCE plays_id_seq AS bigint",
        "ALTER SEQUENCE plays_id_seq OWNED BY plays.id_new",
        "ALTER TABLE plays ALTER COLUMN id_new SET DEFAULT nextval('plays_id_seq')",
        "DROP TRIGGER plays_sync_id_new ON plays",
        "-- the trigger that used it is gone; no client calls it\n-- squawk-ignore ban-drop-function\n"
        "DROP FUNCTION plays_sync_id_new()",
        SWAPPED + "ALTER TABLE plays RENAME COLUMN id TO id_old",
        SWAPPED + "ALTER TABLE plays RENAME COLUMN id_new TO id",
        "CREATE TRIGGER plays_sync_id_old BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_id_old()",
    )


def downgrade() -> None:
    run_ddl("ALTER TABLE plays ADD CONSTRAINT plays_id_old_not_null CHECK (id_old IS NOT NULL) NOT VALID")
    run_autocommit("ALTER TABLE plays VALIDATE CONSTRAINT plays_id_old_not_null")
    create_index_concurrently("plays_id_old_key", "plays", ["id_old"], unique=True)
    run_ddl(
        SYNC_ID_NEW,
        "ALTER TABLE plays ALTER COLUMN id_old SET NOT NULL",
        "ALTER TABLE plays DROP CONSTRAINT plays_id_old_not_null",
        "ALTER TABLE plays DROP CONSTRAINT plays_pkey",
        "ALTER TABLE plays ADD CONSTRAINT plays_pkey PRIMARY KEY USING INDEX plays_id_old_key",
        "ALTER TABLE plays ALTER COLUMN id DROP DEFAULT",
        "ALTER TABLE plays ALTER COLUMN id DROP NOT NULL",
        "ALTER SEQUENCE plays_id_seq AS integer",
        "ALTER SEQUENCE plays_id_seq OWNED BY plays.id_old",
        "ALTER TABLE plays ALTER COLUMN id_old SET DEFAULT nextval('plays_id_seq')",
        "DROP TRIGGER plays_sync_id_old ON plays",
        "DROP FUNCTION plays_sync_id_old()",
        "ALTER TABLE plays RENAME COLUMN id TO id_new",
        "ALTER TABLE plays RENAME COLUMN id_old TO id",
        "CREATE TRIGGER plays_sync_id_new BEFORE INSERT OR UPDATE ON plays "
        "FOR EACH ROW EXECUTE FUNCTION plays_sync_id_new()",
        "ALTER TABLE plays ADD CONSTRAINT plays_id_new_not_null CHECK (id_new IS NOT NULL) NOT VALID",
    )
    # back to the state 0015 left: the check validated and the unique index on id_new built
    run_autocommit("ALTER TABLE plays VALIDATE CONSTRAINT plays_id_new_not_null")
    create_index_concurrently("plays_id_new_key", "plays", ["id_new"], unique=True)
