"""Migrations are the schema: one head, equal to the models, and reversible to base."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from portfolio.config import PROJECT_ROOT
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database


@pytest.fixture()
def empty_database(tmp_path):
    with app_on_new_database(tmp_path) as app, app.app_context():
        yield app


def test_there_is_a_single_head():
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def test_the_migrated_schema_equals_the_models(empty_database):
    upgrade()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_upgrade_then_downgrade_to_base_and_up_again(empty_database):
    upgrade()
    downgrade(revision="base")
    with db.engine.connect() as connection:
        tables = set(db.inspect(connection).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade()
