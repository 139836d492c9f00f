"""The operations guide's restore drill, carried out: deploy/bin/carerounds-basebackup takes a base
backup of a primary that archives its WAL, and deploy/drill/restore-drill.sh brings it back to a
moment between two commits, where `carerounds audit verify` holds and only the first commit is.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from backend import create_app
from backend.extensions import db
from backend.regions.models import Region
from tests.replication import Cluster, free_port

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def archiving(tmp_path):
    cluster = Cluster()
    try:
        wal = cluster.folder_of_the_server("wal")
        cluster.start_primary(f"archive_mode = on\narchive_command = 'cp %p {wal}/%f'")
        cluster.primary.sql("CREATE DATABASE carerounds")
        cluster.wal = wal
        yield cluster
    finally:
        cluster.close()


def _region(app, name: str):
    with app.app_context():
        db.session.add(Region(name=name, level="city", path="/"))
        db.session.commit()
        return db.session.execute(text("SELECT now()")).scalar_one()


def test_a_base_backup_and_the_wal_archive_restore_to_a_moment_with_the_audit_chain_intact(archiving, tmp_path):
    cluster = archiving
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "SQLALCHEMY_DATABASE_URI": cluster.primary.url("carerounds")})
    with app.app_context():
        upgrade()
    _region(app, "备份前的市")
    backups = cluster.folder_of_the_server("backups")
    env = dict(os.environ, PGHOST="127.0.0.1", PGPORT=str(cluster.primary.port), PGUSER="postgres",
               BACKUP_DIR=str(backups), WAL_ARCHIVE=str(cluster.wal), PGBIN=str(cluster.bin))
    backed_up = subprocess.run(cluster.as_server_user([str(REPO / "deploy/bin/carerounds-basebackup")]),
                               env=env, capture_output=True, text=True)
    assert backed_up.returncode == 0, backed_up.stdout + backed_up.stderr

    target = _region(app, "备份后的市")  # after the base backup: only the archived WAL has it
    _region(app, "目标之后的市")
    with app.app_context():
        db.engine.dispose()
    segment = cluster.primary.sql("SELECT pg_walfile_name(pg_switch_wal())")[0][0]
    cluster.wait_until(lambda: (cluster.wal / segment).exists())

    care = tmp_path / "carerounds"
    care.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m backend.cli "$@"\n')
    care.chmod(0o755)
    restored = Path(cluster.folder_of_the_server("restore-parent")) / "restore"
    port = free_port()
    drill = subprocess.run(
        [str(REPO / "deploy/drill/restore-drill.sh")], cwd=REPO, capture_output=True, text=True,
        env=env | {"CARE": str(care), "RESTORE_DIR": str(restored), "PORT": str(port), "KEEP_RUNNING": "yes",
                   "TARGET_TIME": target.isoformat(), "PYTHONPATH": str(REPO),
                   "CARE_INSTANCE_PATH": str(tmp_path / "drill-instance"),
                   "PG_OS_USER": cluster.user.pw_name if cluster.user else ""})
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "audit trail intact" in drill.stdout
    for step in ("unpack base backup", "replay WAL to target, promote", "carerounds audit verify", "whole drill"):
        assert step in drill.stdout
    try:
        back = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                           "SQLALCHEMY_DATABASE_URI": f"postgresql://postgres@127.0.0.1:{port}/carerounds"})
        with back.app_context():
            names = set(db.session.execute(select(Region.name)).scalars())
            db.session.remove()
            db.engine.dispose()
        assert names == {"备份前的市", "备份后的市"}
    finally:
        cluster.run("pg_ctl", "-D", restored, "-m", "immediate", "-w", "stop", check=False)
