"""A hung object store (its process stopped, not dead: connections are accepted and nothing
answers) costs a request the store's deadline, not minutes, and holds up no other page. Each
test hangs a SeaweedFS of its own, with the application's default deadline."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from portfolio.config import Settings
from portfolio.core.storage import ObjectStore
from portfolio.extensions import db
from tests.helpers.app import app_on_new_database
from tests.helpers.evidence import upload
from tests.helpers.factories import make_people
from tests.helpers.samples import PDF
from tests.helpers.storage_server import hung, start_test_store, storage_config_for
from tests.helpers.web import log_in

#: The deadline's default (15 s) and some slack for a machine under load.
ANSWER_WITHIN = 20


@pytest.fixture()
def hung_app(tmp_path, builtin_specs):
    """An application on a database of its own (other requests run meanwhile, each on its
    connection) and on a store of its own, with a learner; the store not yet hung."""
    with (app_on_new_database(tmp_path / "db", builtin_specs.values()) as app,
          start_test_store(tmp_path / "s3") as store):
        app.extensions["object_store"] = ObjectStore(storage_config_for(
            store, deadline_seconds=Settings().s3_deadline_seconds))
        with app.app_context():
            people = make_people(db.session)
            db.session.commit()
            learner = SimpleNamespace(email=people.learner1.email,
                                      enrolment=SimpleNamespace(id=people.enrolment1.id))
        yield SimpleNamespace(app=app, store=store, learner=learner)


def test_an_upload_to_a_hung_store_answers_503_in_seconds_while_other_pages_are_served(
        hung_app):
    app, learner = hung_app.app, hung_app.learner
    uploader, reader = app.test_client(), app.test_client()
    for client in (uploader, reader):
        assert log_in(client, learner.email).status_code == 302

    with hung(hung_app.store), ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        pending = pool.submit(upload, uploader, learner.enrolment, PDF, "late.pdf")
        time.sleep(1)
        page_started = time.monotonic()
        page = reader.get("/", follow_redirects=True)
        page_took = time.monotonic() - page_started
        assert not pending.done(), "the upload should be waiting on the hung store"
        response = pending.result(timeout=ANSWER_WITHIN * 2)
        took = time.monotonic() - started

    assert page.status_code == 200 and page_took < 5
    assert response.status_code == 503
    assert "not answering" in response.get_json()["error"]
    assert took < ANSWER_WITHIN


def test_storage_check_names_a_hung_store_in_seconds(hung_app):
    with hung(hung_app.store):
        started = time.monotonic()
        result = hung_app.app.test_cli_runner().invoke(args=["storage", "check"])
        took = time.monotonic() - started

    assert result.exit_code == 1
    assert "is not answering (no reply within 15 s)" in result.output
    assert took < ANSWER_WITHIN
