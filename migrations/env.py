"""Alembic environment: runs migrations against the Flask app's engine and metadata."""

from alembic import context
from flask import current_app
from sqlalchemy import text
from sqlalchemy.types import TypeDecorator

from backend.partitions import include_object

config = context.config
target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Render the app's column types by their database type, so migrations never import the app."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return "sa." + repr(obj.impl)
    return False


def run_migrations_offline():
    context.configure(url=str(target_db.engine.url), target_metadata=target_db.metadata,
                      literal_binds=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("compare_type", True)
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("include_object", include_object)
    # Flask-Migrate turns batch mode on by default, which only SQLite needs: PostgreSQL alters in place.
    conf_args.pop("render_as_batch", None)
    with target_db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **conf_args,
        )
        with context.begin_transaction():
            # App hosts started at once each upgrade (`serve` does at start): the first takes this
            # lock and migrates; the others wait for its commit, then read the version it wrote
            # and find nothing to do. A transaction's lock, so it holds through PgBouncer too.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('carerounds-migrate'), "
                                    "hashtext(current_schema()))"))
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
