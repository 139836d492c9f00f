"""App hosts started at once each upgrade the database (`serve` does at start): one migrates, the
others wait for it and find the database at head."""

import subprocess
import sys

from sqlalchemy import create_engine, make_url, text

from tests.hosts.conftest import REPO
from tests.pg import fresh_schema


def test_two_hosts_upgrading_an_empty_database_at_once_both_succeed(app, process_env):
    with fresh_schema(app, "carerounds_upgrade") as database:
        url = make_url(database["SQLALCHEMY_DATABASE_URI"]).update_query_dict(
            {"options": database["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]["options"]})
        env = dict(process_env, DATABASE_URL=url.render_as_string(hide_password=False))
        upgrades = [subprocess.Popen([sys.executable, "-m", "backend.cli", "db", "upgrade"], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(2)]
        outputs = [upgrade.communicate(timeout=120)[0] for upgrade in upgrades]
        assert [upgrade.returncode for upgrade in upgrades] == [0, 0], outputs
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                assert len(conn.execute(text("SELECT version_num FROM alembic_version")).all()) == 1
        finally:
            engine.dispose()
