"""The sweep's floor: no scheduled task starts before it, so the sweep reads only the months from
there on instead of every month the tasks table keeps.

One row. A statement trigger on tasks lowers it when an insert brings a scheduled task that
starts earlier (nothing ever sets a task back to scheduled: an insert is the only way in); the
sweep job raises it month by month once a month holds no scheduled task
(backend/tasks/sweep.py::advance_floor). NULL: no task is scheduled.

Revision ID: 0020_sweep_floor
Revises: 0019_smallfix
"""
import sqlalchemy as sa
from alembic import op

from backend.columns import UTCDateTime

revision = "0020_sweep_floor"
down_revision = "0019_smallfix"
branch_labels = None
depends_on = None

# The sweep job raises the floor under FOR UPDATE after finding a month empty. An insert that
# leaves the floor as it is holds it FOR SHARE till it commits, so it either committed before
# that check (which then sees its tasks) or waits for the raise, reads the raised floor and
# lowers it again. An insert that lowers it updates it at once (no share lock first: two such
# inserts would deadlock upgrading their share locks); the rare insert that finds the floor
# raised past its tasks after waiting upgrades its share lock, and a deadlock there costs one
# retried transaction, never a stranded task.
TRIGGER = """
CREATE FUNCTION tasks_lower_sweep_floor() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest timestamptz;
    floor_at timestamptz;
BEGIN
    SELECT min(window_start_at) INTO earliest FROM new_rows WHERE status = 'scheduled';
    IF earliest IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT starts_at INTO floor_at FROM sweep_floor WHERE id = 1;
    IF floor_at IS NOT NULL AND earliest >= floor_at THEN
        SELECT starts_at INTO floor_at FROM sweep_floor WHERE id = 1 FOR SHARE;
    END IF;
    IF floor_at IS NULL OR earliest < floor_at THEN
        UPDATE sweep_floor SET starts_at = least(starts_at, earliest) WHERE id = 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tasks_sweep_floor AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_lower_sweep_floor();
"""


def upgrade():
    op.create_table(
        "sweep_floor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_sweep_floor_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_floor")),
    )
    op.execute("INSERT INTO sweep_floor (id, starts_at) "
               "SELECT 1, min(window_start_at) FROM tasks WHERE status = 'scheduled'")
    op.execute(TRIGGER)


def downgrade():
    op.execute("DROP TRIGGER tasks_sweep_floor ON tasks; DROP FUNCTION tasks_lower_sweep_floor()")
    op.drop_table("sweep_floor")
