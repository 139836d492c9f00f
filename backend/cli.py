"""The `carerounds` command line: serve, demo, createuser, tasks generate, scheduler, db …"""

import gc
import os
import signal
import subprocess
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from backend.extensions import db
from backend.plates.cli import plates_group
from schemas.vocab import ROLES
from sync.client.cli import phone


def main():
    from backend import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), add_version_option=False, add_default_commands=True,
                     help="CareRounds: home and community elder-care visits, offline sync and audits.")
    cli.main(prog_name="carerounds")


def register_commands(app):
    app.cli.add_command(serve)
    app.cli.add_command(demo)
    app.cli.add_command(createuser)
    app.cli.add_command(tasks_group)
    app.cli.add_command(plates_group)
    app.cli.add_command(scheduler)
    app.cli.add_command(phone)
    app.cli.add_command(sweep_command)
    app.cli.add_command(partitions_group)
    from backend.audit.cli import audit_group

    app.cli.add_command(audit_group)
    from backend.reviews.cli import callbacks_group

    app.cli.add_command(callbacks_group)
    from backend.regions.cli import regions_group

    app.cli.add_command(regions_group)
    from flask_migrate.cli import db as db_group  # Flask-Migrate's `db` group: upgrade, downgrade, …

    db_group.add_command(db_dump)


def upgrade_database() -> None:
    from flask_migrate import upgrade

    upgrade()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="gunicorn worker processes")
@click.option("--demo", "with_demo", is_flag=True, help="seed the demo city first (skipped if present)")
@click.option("--no-scheduler", "no_scheduler", is_flag=True,
              help="start no scheduler: for the extra hosts of a deployment with several (run one "
                   "`carerounds scheduler` somewhere)")
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), help="serve HTTPS: the certificate (PEM)")
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), help="serve HTTPS: its private key (PEM)")
@with_appcontext
def serve(host, port, workers, with_demo, no_scheduler, certfile, keyfile):
    """Upgrade the database to head and serve the API with gunicorn, plus one scheduler process
    (none with --no-scheduler); HTTPS with --certfile and --keyfile."""
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    upgrade_database()
    if with_demo:
        from backend.demo import seed_demo

        if seed_demo():
            click.echo(demo_logins())
        else:
            click.echo("Demo city already present; nothing seeded.")
    # The workers make their own connections: none of the master's may be shared across the fork,
    # and none may stay open holding a transaction (or its locks) while the server runs.
    db.session.remove()
    db.engine.dispose()
    env = dict(os.environ, CARE_INSTANCE_PATH=current_app.instance_path)
    sched = None if no_scheduler else subprocess.Popen([sys.executable, "-m", "backend.cli", "scheduler"], env=env)
    try:
        _run_gunicorn(host, port, workers, tls={"certfile": certfile, "keyfile": keyfile} if certfile else {})
    finally:
        if sched is not None:
            sched.send_signal(signal.SIGTERM)
            try:
                sched.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sched.kill()
                sched.wait()


def gunicorn_settings(host: str, port: int, workers: int, tls: dict | None = None) -> dict:
    """Threaded workers: a sync worker cannot tell the arbiter it is alive while it streams a
    response, so an export longer than `timeout` was killed mid-file after a 200. A gthread worker
    heartbeats from its main loop while handler threads stream; `timeout` still catches a worker
    whose main loop is stuck. The threads also keep short requests answered during an export."""
    return {"bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread", "threads": 4,
            "accesslog": "-", "timeout": 60, "post_worker_init": freeze_loaded_heap, **(tls or {})}


def freeze_loaded_heap(worker) -> None:
    """gunicorn's post_worker_init: once the app is loaded, move what is alive into the collector's
    permanent generation, which it never scans again (gc.freeze). The app's modules, metadata and
    compiled statements are tens of thousands of objects that live as long as the worker, and
    the cyclic collector's older generations walked them all over again: measured at ~8 us of a
    push's ~135 us of Python per item, ~3 us once frozen. Garbage is collected first, so none is
    pinned."""
    gc.collect()
    gc.freeze()


def _run_gunicorn(host: str, port: int, workers: int, tls: dict | None = None) -> None:
    from gunicorn.app.base import BaseApplication

    instance_path = current_app.instance_path

    class Server(BaseApplication):
        def load_config(self):
            for name, value in gunicorn_settings(host, port, workers, tls).items():
                self.cfg.set(name, value)

        def load(self):
            from backend import create_app

            return create_app({"INSTANCE_PATH": instance_path})

    base = f"{'https' if tls else 'http'}://{host}:{port}"
    click.echo(f"CareRounds on {base}/api/v1/docs (Ctrl-C stops)\n  console:   {base}/console/\n"
               f"  field app: {base}/app/  (phones: the QR code on the console's home page)")
    Server().run()


@click.command("dump")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="the file to write (PostgreSQL's custom format)")
@with_appcontext
def db_dump(out):
    """Back up the database with pg_dump (the embedded server's own, or any PostgreSQL's)."""
    from backend.embedded import bin_path

    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    db.engine.dispose()
    result = subprocess.run([str(bin_path() / "pg_dump"), "--format=custom", "--no-owner", "--file", out,
                             "--dbname", url], capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    click.echo(f"wrote {out}; restore it into an empty database with "
               f"{bin_path() / 'pg_restore'} --no-owner --dbname URL {out}")


@click.command()
@with_appcontext
def scheduler():
    """Run the scheduled jobs (task generation, …) alone: one per deployment, beside hosts started
    with `serve --no-scheduler`. A second one by mistake runs no job twice in a period."""
    import logging

    from backend.scheduler import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    sched = build_scheduler(current_app._get_current_object())
    # SIGTERM from `serve` when it stops; SIGINT when Ctrl-C reaches the whole process group.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sched.shutdown(wait=False))
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@click.command()
@with_appcontext
def demo():
    """Seed the demo city (two districts, 340 elders, 51 accounts, plans, 14 days of tasks)."""
    from backend.demo import seed_demo

    upgrade_database()
    if not seed_demo():
        raise click.ClickException("the demo city is already seeded")
    click.echo(demo_logins())


def demo_logins() -> str:
    from backend.demo import DEMO_PASSWORD

    return (
        "Demo logins (for demos only; never use these on real data), password for all: "
        f"{DEMO_PASSWORD}\n"
        "  admin                      administrator\n"
        "  city_supervisor            supervisor of the whole city (both districts)\n"
        "  supervisor1, supervisor2   supervisors (清河区, one street of it)\n"
        "  supervisor3                supervisor of 白山区\n"
        "  caregiver01 … caregiver34  caregivers of the two providers (31–34 in 白山区)\n"
        "  worker01 … worker12        community workers (11, 12 in 白山区)\n"
        "  manager1, manager2         provider managers, one per provider"
    )


@click.command()
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--region", "region_id", type=int, help="supervisor: region subtree root; worker: a community")
@click.option("--provider", "provider_id", type=int, help="caregiver or provider manager: their provider")
@click.option("--name", "display_name", default="", help="display name")
@with_appcontext
def createuser(username, password, role, region_id, provider_id, display_name):
    """Create an account."""
    from backend.users.models import User
    from backend.users.services import create_user

    try:
        user = create_user(username=username, password=password, role=role, region_id=region_id,
                           provider_id=provider_id, display_name=display_name, by=None)
        db.session.commit()
    except Exception as error:  # Problem carries the reason; show it as a CLI error
        db.session.rollback()
        raise click.ClickException(getattr(error, "problem_detail", None) or str(error)) from None
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    click.echo(f"created {user.role} {user.username} (id {user.id})")


@click.group("tasks")
def tasks_group():
    """Visit tasks."""


@tasks_group.command("generate")
@click.option("--days", type=int, help="horizon in days (default: TASK_HORIZON_DAYS)")
@with_appcontext
def tasks_generate(days):
    """Create the missing tasks of every active plan up to the horizon; safe to re-run."""
    from backend.clock import utcnow
    from backend.tasks.generation import generate_tasks

    result = generate_tasks(now=utcnow(), horizon_days=days)
    db.session.commit()
    click.echo(f"{result.created} tasks created ({result.considered} plan slots considered)")


@click.command("sweep")
@click.option("--now", "at", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z",
                                                         "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]),
              help="run as if at this ISO-8601 time (drills and tests); without an offset, the care time zone")
@with_appcontext
def sweep_command(at):
    """Run one sweep: flag late starts, mark missed tasks; then open their follow-ups (a second transaction)."""
    from backend.clock import care_tz, utcnow
    from backend.tasks.jobs import sweep_job

    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=care_tz())
    result = sweep_job(now=at or utcnow())
    if not result.ran:
        raise click.ClickException("another sweep is running; nothing done")
    click.echo(f"{result.late} late, {result.missed} missed, {result.followups} follow-ups opened")


def _month(value: str | None):
    from datetime import datetime

    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a month like 2026-11") from None


@click.group("partitions")
def partitions_group():
    """Monthly partitions of the tables that grow with visits (backend/partitions.py)."""


@partitions_group.command("list")
@with_appcontext
def partitions_list():
    """Each partition of each partitioned table: its local months, the planner's row estimate; rows
    sitting in a default partition (their months were never made), and months archived."""
    from backend.archive import archive_schema, archived
    from backend.clock import care_tz
    from backend.partitions import MONTHLY, PartitionError, default_rows, partition_column, partitions_of

    tz = care_tz()
    for table in MONTHLY:
        try:
            column = partition_column(db.session, table)
        except PartitionError:
            click.echo(f"{table}: not partitioned")
            continue
        click.echo(f"{table} (by {column}, months of {tz.key}):")
        for name, lower, upper, estimate in partitions_of(db.session, table):
            rows = "rows not estimated yet (never analysed)" if estimate is None else f"~{estimate} rows"
            if lower is None:
                stray = default_rows(db.session, table)
                click.echo(f"  {name:<32} default                  {rows}; {stray} rows in default"
                           + (" (make their months: `carerounds partitions ensure --from …`)" if stray else ""))
            else:
                click.echo(f"  {name:<32} {lower.astimezone(tz):%Y-%m-%d} .. {upper.astimezone(tz):%Y-%m-%d}   {rows}")
        if old := archived(db.session, table):
            click.echo(f"  archived in schema {archive_schema()}: {len(old)} months, {old[0]} .. {old[-1]}")


@partitions_group.command("ensure")
@click.option("--from", "first", help="the first month to make, YYYY-MM (default: this month)")
@click.option("--to", "last", help="the last month to make, YYYY-MM (default: CARE_PARTITION_MONTHS_AHEAD ahead)")
@with_appcontext
def partitions_ensure(first, last):
    """Make the missing months of every partitioned table (and its default partition); rows of a
    month sitting in the default partition move into it. Safe to re-run."""
    from backend.clock import local_today
    from backend.partitions import MONTHLY, PartitionError, add_months, ensure_ahead, ensure_default, ensure_months

    try:
        if first is None and last is None:
            made = ensure_ahead(db.session)
        else:
            this_month = local_today().replace(day=1)
            start = _month(first) or this_month
            end = _month(last) or add_months(this_month, current_app.config["PARTITION_MONTHS_AHEAD"])
            made = {}
            for table in MONTHLY:
                made[table] = ensure_months(db.session, table, start, end)
                ensure_default(db.session, table)
        db.session.commit()
    except PartitionError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    for table, names in made.items():
        click.echo(f"{table}: {len(names)} made" + (f" ({', '.join(names)})" if names else ""))


@partitions_group.command("archive")
@click.option("--before", required=True, help="archive every month before this one, YYYY-MM; it must "
                                               "be older than CARE_RETENTION_YEARS")
@with_appcontext
def partitions_archive(before):
    """Move whole months older than the retention into the archive schema (DETACH PARTITION, then
    SET SCHEMA): out of the app's reads, still in the database and in `audit verify`."""
    from backend.archive import archive_months, archive_schema
    from backend.partitions import PartitionError

    try:
        moved = archive_months(db.session, _month(before))
        db.session.commit()
    except PartitionError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    for table, names in moved.items():
        click.echo(f"{table}: {len(names)} months moved to schema {archive_schema()}"
                   + (f" ({names[0]} .. {names[-1]})" if names else ""))


if __name__ == "__main__":
    main()
