"""Migrations: an empty database is brought to head and back to base, and head matches the models."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from backoffice import db
from backoffice.app import create_app
from backoffice.models import Base
from backoffice_helpers import make_settings

APP_TABLES = {
    "service_requests", "status_changes", "outbound_notifications", "screenings",
    "identity_sign_ins", "identity_links", "verification_codes", "dev_outbox",
    "crime_reports", "crime_report_events",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        # A folder that does not exist yet, as on a fresh checkout.
        return f"sqlite:///{tmp_path / 'fresh' / 'var' / 'backoffice.db'}"
    return request.getfixturevalue("postgres").create_database()


def tables(engine) -> set:
    # SQLite keeps its own bookkeeping table; it is not ours.
    return set(inspect(engine).get_table_names()) - {"sqlite_sequence"}


def test_upgrade_head_then_downgrade_base(empty_database_url):
    engine = db.make_engine(empty_database_url)
    try:
        assert tables(engine) == set()
        db.upgrade(engine)
        assert tables(engine) == APP_TABLES | {"alembic_version"}
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert context.get_current_revision() is not None
            differences = [
                d for d in compare_metadata(context, Base.metadata)
                if not (d[0] == "remove_table" and d[1].name == "sqlite_sequence")
            ]
        assert differences == []

        db.downgrade(engine)
        assert tables(engine) == {"alembic_version"}
        # And up again: the downgrade left nothing behind that blocks it.
        db.upgrade(engine)
        assert tables(engine) == APP_TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def test_app_start_migrates_an_empty_database(empty_database_url):
    app = create_app(make_settings(empty_database_url))
    try:
        assert tables(app.state.engine) >= APP_TABLES
        # Starting again on a migrated database is a no-op.
        create_app(make_settings(empty_database_url)).state.engine.dispose()
    finally:
        app.state.engine.dispose()


def test_replicas_migrating_together_on_postgresql(postgres):
    url = postgres.create_database()
    # lock_timeout: a broken lock fails here in seconds instead of hanging the suite.
    engines = [
        create_engine(url, future=True, connect_args={"options": "-c lock_timeout=20s"}) for _ in range(3)
    ]
    together = threading.Barrier(len(engines), timeout=30)

    def start(engine):
        together.wait()
        db.upgrade(engine)

    try:
        with ThreadPoolExecutor(max_workers=len(engines)) as pool:
            list(pool.map(start, engines))  # re-raises any replica's failure
        assert tables(engines[0]) == APP_TABLES | {"alembic_version"}
    finally:
        for engine in engines:
            engine.dispose()
