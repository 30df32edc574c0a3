"""The sampling trail's page, its CSV and PDF downloads and ``portfolio quality trail``: who may
see them, that they show the same figures, and how they refuse bad filters."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pypdf
import pytest

from portfolio.quality import trail_export
from portfolio.quality.trail import (
    Period,
    TrailQuery,
    sampling_trail,
    today_in_london,
)
from portfolio.quality.trail_listing import SampleEntry
from tests.helpers.factories import make_enrolment, make_user
from tests.helpers.quality import PERIOD, build_scene, make_plan
from tests.helpers.queries import count_queries
from tests.helpers.web import text

FILTER = "starts_on=2026-09-01&ends_on=2027-08-31"
PATHS = ("/quality/trail", "/quality/trail/figures.csv", "/quality/trail/samples.csv",
         "/quality/trail/trail.pdf")


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text(response))))


@pytest.mark.parametrize("path", PATHS)
def test_the_centres_iqas_and_admins_see_the_trail_and_nobody_else(session, people, login,
                                                                   path):
    build_scene(session, people)
    for user in (people.iqa1, people.iqa2, people.admin):
        assert login(user).get(f"{path}?{FILTER}").status_code == 200, user
    for user in (people.assessor1, people.assessor2, people.learner1):
        assert login(user).get(f"{path}?{FILTER}").status_code == 404, user


def test_another_centres_admin_sees_only_their_own_centre(session, people, login):
    build_scene(session, people)
    page = text(login(people.other_admin).get(f"/quality/trail?{FILTER}"))
    assert "South Academy" in page and "Assessor1" not in page and "North College" not in page


def test_logged_out_the_trail_asks_for_a_login(client):
    assert client.get("/quality/trail").status_code == 302


def test_the_page_shows_the_figures_and_offers_the_files_for_the_same_filters(session, people,
                                                                              login):
    build_scene(session, people)
    page = text(login(people.iqa1).get(f"/quality/trail?{FILTER}"))
    assert "1 September 2026 to 31 August 2027" in page
    assert 'data-label="Samples">3</td>' in page  # the totals
    assert 'data-label="Records (decisions)">' in page and "Total: All assessors" in page
    assert f'href="/quality/trail/trail.pdf?{FILTER.replace("&", "&amp;")}"' in page


def test_a_day_that_is_no_date_is_refused_at_its_field(session, people, login):
    page = text(login(people.iqa1).get("/quality/trail?starts_on=31/02/2026"))
    assert 'id="starts_on-error"' in page and "Total:" not in page
    download = login(people.iqa1).get("/quality/trail/figures.csv?starts_on=31/02/2026")
    assert download.status_code == 302 and "/quality/trail?" in download.location


def test_a_period_ending_before_it_starts_is_refused(session, people, login):
    page = text(login(people.admin).get("/quality/trail?starts_on=2027-02-01&ends_on=2027-01-01"))
    assert 'id="ends_on-error"' in page and "cannot start" in page


def test_without_dates_the_trail_covers_the_year_to_today(session, people, login):
    page = text(login(people.admin).get("/quality/trail"))
    assert f'value="{today_in_london().isoformat()}"' in page


def test_the_figures_csv_has_a_row_per_assessor_and_qualification_and_the_totals(
        session, people, login):
    build_scene(session, people)
    response = login(people.iqa2).get(f"/quality/trail/figures.csv?{FILTER}")
    assert response.mimetype == "text/csv"
    assert ('filename="sampling-trail-north-college-2026-09-01-to-2027-08-31.csv"'
            in response.headers["Content-Disposition"])
    header, *lines = rows(response)
    assert header == trail_export.figures_headings()
    assert [line[:2] for line in lines] == [["Assessor1", "600/1636/X"],
                                            ["Assessor2", "600/1257/2"],
                                            ["Total: All assessors", "All qualifications"]]
    totals = dict(zip(header, lines[-1], strict=True))
    assert totals["Samples recorded"] == "3" and totals["Learners sampled"] == "2"
    assert totals["Sign-offs awaiting countersignature"] == "1"


def test_the_samples_csv_lists_each_sample(session, people, login):
    build_scene(session, people)
    header, *lines = rows(login(people.iqa1).get(f"/quality/trail/samples.csv?{FILTER}"))
    assert header == list(trail_export.SAMPLE_HEADINGS)
    assert [(line[5], line[8], line[9]) for line in lines] == [
        ("Assessor1", "1 Feb 2027", "Agree"), ("Assessor1", "Ad hoc", "Action required"),
        ("Assessor2", "Ad hoc", "Agree with feedback")]


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted():
    assert trail_export.to_csv(["Name"], [["=HYPERLINK(\"x\")"], ["-1"], ["Ann"]]) == \
        "Name\r\n\"'=HYPERLINK(\"\"x\"\")\"\r\n'-1\r\nAnn\r\n"


def test_the_pdf_has_the_centre_the_period_the_figures_and_page_numbers(session, people,
                                                                        login):
    build_scene(session, people)
    response = login(people.admin).get(f"/quality/trail/trail.pdf?{FILTER}")
    assert response.mimetype == "application/pdf"
    pages = pdf_text(response.data)
    first = pages[0]
    assert "Sampling trail: North College" in first
    assert "Period: 1 September 2026 to 31 August 2027" in first and "Generated " in first
    assert "Assessor1" in first and "Action required" in first
    assert all(f"Page {n} of {len(pages)}" in page for n, page in enumerate(pages, 1))


def entries(count: int) -> list[SampleEntry]:
    return [SampleEntry(
        recorded_at=dt.datetime(2027, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(hours=n),
        learner=f"Łukasz Żółć {n}", registration_number=f"REG-{n}", qualification="600/1636/X",
        unit="204 Using the contact centre systems", assessor="Asha Assessor", iqa="Ivan IQA",
        stage="Interim", planned_due_on=None, outcome="Agree", open_actions=0,
        countersignature="Not needed") for n in range(count)]


def test_a_long_samples_table_runs_onto_more_pages_with_its_headings(session, people):
    trail = sampling_trail(session, TrailQuery(people.centre.id, PERIOD, dt.date(2027, 3, 1)))
    pages = pdf_text(trail_export.trail_pdf(trail, entries(150)))
    assert len(pages) >= 3 and "Page 3 of" in pages[2]
    assert all("Registration" in page and "Countersigned" in page for page in pages[1:])
    assert "Łukasz Żółć 149" in pages[-1]


def test_without_a_unicode_font_the_pdf_still_prints_every_name(session, people, monkeypatch,
                                                               tmp_path):
    monkeypatch.setattr(trail_export, "FONT_FOLDER", tmp_path)
    trail = sampling_trail(session, TrailQuery(people.centre.id, PERIOD, dt.date(2027, 3, 1)))
    pages = pdf_text(trail_export.trail_pdf(trail, entries(2)))
    assert "?ukasz Zó?c 1" in pages[-1] or "?ukasz Z" in pages[-1]


def test_the_page_costs_the_same_queries_for_more_learners(session, people, login):
    build_scene(session, people)
    client = login(people.iqa1)
    client.get(f"/quality/trail?{FILTER}")

    def statements():
        session.expire_all()  # as a request in production finds it: nothing loaded
        with count_queries() as found:
            assert client.get(f"/quality/trail?{FILTER}").status_code == 200
        return len(found)

    few = statements()
    for n in range(5):
        learner = make_user(session, people.centre, f"extra{n}@north.test", "learner")
        make_enrolment(session, learner, people.assessor1, people.iqa1)
    make_plan(session, people.iqa2, people.assessor2, people.enrolment2)
    assert statements() == few


def test_the_command_prints_the_pages_figures(session, people, login, cli):
    build_scene(session, people)
    page_csv = text(login(people.iqa1).get(f"/quality/trail/figures.csv?{FILTER}"))
    result = cli.invoke(args=["quality", "trail", "--centre", "North College", "--from",
                              "2026-09-01", "--to", "2027-08-31", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.output))) == list(csv.reader(io.StringIO(page_csv)))
    result = cli.invoke(args=["quality", "trail", "--centre", "North College", "--from",
                              "2026-09-01", "--to", "2027-08-31", "--format", "json",
                              "--qualification", "600/1257/2"])
    report = json.loads(result.output)
    assert (report["from"], report["to"], report["qualification"]) == (
        "2026-09-01", "2027-08-31", "600/1257/2")
    assert [line["assessor"] for line in report["lines"]] == ["Assessor2"]
    assert report["totals"]["samples"] == 1
    assert report["totals"]["coverage"]["records"] == {"sampled": 2, "total": 2}


@pytest.mark.parametrize(("args", "message"), [
    (["--centre", "Nowhere"], "There is no centre called 'Nowhere'."),
    (["--centre", "North College", "--qualification", "999/9999/9"],
     "There is no qualification '999/9999/9'."),
    (["--centre", "North College", "--from", "31/02/2026"], "--from '31/02/2026' is not a date"),
    (["--centre", "North College", "--from", "2027-02-01", "--to", "2027-01-01"],
     "The period cannot start (01/02/2027) after it ends (01/01/2027)."),
])
def test_the_command_refuses_bad_input_with_status_2(people, cli, args, message):
    result = cli.invoke(args=["quality", "trail", *args])
    assert result.exit_code == 2 and message in result.output


def test_a_period_of_one_day_is_allowed():
    assert Period.choose(dt.date(2027, 1, 1), dt.date(2027, 1, 1), dt.date(2027, 3, 1)) == \
        Period(dt.date(2027, 1, 1), dt.date(2027, 1, 1))
