"""Sampling plans walked in Chromium: the admin sets the centre's strategy; the IQA, on a 390 px
phone, has the generator propose a plan, changes it on the grid (takes one sample out, adds one,
moves a due date), and reads its history and what it leaves uncovered of CAMERA."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from portfolio.extensions import db
from portfolio.quality.models import PlanRevision, SamplingPlan
from portfolio.quality.plans import active_samples
from portfolio.quality.strategy import DEFAULTS, strategy_in_force
from tests.helpers.assessment import add_item, criteria_of, decide, unit_node
from tests.helpers.browser import log_in_page, seed_enrolment

pytestmark = pytest.mark.browser

DOMAIN = "plans.example.org"
ROLES = ("centre_admin", "learner", "assessor", "iqa")


@pytest.fixture()
def seeded(live_app):
    """The learner's units 204 (observed) and 205 (a product) judged; 301 claimed, not judged."""
    with live_app.app_context():
        made = seed_enrolment(db.session, "Plans College", DOMAIN, "PL-1",
                              dt.date.today() - dt.timedelta(days=60),
                              dt.date.today() + dt.timedelta(days=300), roles=ROLES)
        enrolment, assessor = made.enrolment, made.users["assessor"]
        for number, method in (("204", "observation"), ("205", "product")):
            criteria = criteria_of(db.session, enrolment, number, 2)
            decide(db.session, add_item(db.session, enrolment, criteria, method=method),
                   assessor, criteria)
        add_item(db.session, enrolment, criteria_of(db.session, enrolment, "301", 1))
        units = {n: unit_node(db.session, enrolment, n).id for n in ("204", "205", "301")}
        ids = made.centre.id, enrolment.id
        db.session.commit()
        db.session.remove()  # no transaction left open: SQLite's writers wait for none
    return (*ids, units)


def _context(browser, phone: bool):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 800}
    return browser.new_context(viewport=size, is_mobile=phone)


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_strategy_then_a_plan_generated_changed_and_reviewed(live_app, browser, seeded, tmp_path):
    centre_id, enrolment_id, units = seeded
    base = live_app.config["LIVE_URL"]

    admin = _context(browser, phone=False).new_page()
    log_in_page(admin, base, f"admin@{DOMAIN}")
    admin.click("nav >> text=Sampling plans")
    admin.click("text=The centre's sampling strategy")
    admin.fill("#experienced_percent", "30")
    admin.fill("#interim_percent", "40")
    admin.select_option("#cycle_start_month", "8")
    with admin.expect_navigation():
        admin.click("button:has-text('Save the strategy')")
    admin.wait_for_selector(".flash:has-text('The sampling strategy is saved')")
    assert "(in force)" in admin.inner_text("#strategy-history")
    admin.context.close()
    with live_app.app_context():
        in_force = strategy_in_force(db.session, centre_id)
        db.session.remove()
    assert (in_force.experienced_percent, in_force.interim_percent,
            in_force.cycle_start_month) == (30, 40, 8)

    page = _context(browser, phone=True).new_page()
    log_in_page(page, base, f"iqa@{DOMAIN}")
    page.goto(f"{base}/quality/plans/")
    page.select_option("#assessor_id", label="Asha Assessor")
    page.select_option("#qualification_id", label="600/1636/X")
    with page.expect_navigation():
        page.click("button:has-text('Propose the plan')")
    page.wait_for_selector(".flash:has-text('The plan is made')")
    assert page.is_visible("#record-missing")  # no staff record: the strictest band
    assert _fits(page)
    page.screenshot(path=str(tmp_path / "proposed.png"), full_page=True)

    cell = f"{enrolment_id}-{{}}"
    page.click("nav[aria-label=Plan] >> text=Change")
    assert _fits(page)
    with live_app.app_context():
        plan = db.session.scalars(sa.select(SamplingPlan)).one()
        due_205 = {s.unit_id: s.due_on for s in active_samples(db.session, plan)}[units["205"]]
        cycle_start = plan.cycle_starts_on
        db.session.remove()
    assert cycle_start == in_force.cycle_containing(dt.date.today())[0]
    page.select_option(f"#stage-{cell.format(units['204'])}", "")
    page.select_option(f"#stage-{cell.format(units['301'])}", "interim")
    page.fill(f"#due-{cell.format(units['301'])}",
              (cycle_start + dt.timedelta(days=150)).isoformat())
    page.fill(f"#due-{cell.format(units['205'])}", (due_205 + dt.timedelta(days=14)).isoformat())
    page.fill("#note", "Unit 301 once the observation is judged; 204 was sampled last cycle.")
    with page.expect_navigation():
        page.click("button:has-text('Save the plan')")
    page.wait_for_selector(".flash:has-text('The plan is changed')")
    page.screenshot(path=str(tmp_path / "changed.png"), full_page=True)
    with live_app.app_context():
        plan = db.session.scalars(sa.select(SamplingPlan)).one()
        now = {s.unit_id: s for s in active_samples(db.session, plan)}
        revisions = db.session.scalar(sa.select(sa.func.count()).select_from(PlanRevision))
        db.session.remove()
    assert set(now) == {units["205"], units["301"]}
    assert now[units["205"]].due_on == due_205 + dt.timedelta(days=14)
    assert revisions == 2

    page.click("nav[aria-label=Plan] >> text=History")
    history = page.inner_text("#plan-history")
    assert "Unit 301 once the observation is judged" in history
    assert "Proposed by the generator." in history
    assert _fits(page)

    page.click("nav[aria-label=Plan] >> text=Coverage")
    gaps = page.inner_text("#gaps")
    assert "Unit 204" in gaps and "Assessor observation" in gaps and "not in the plan" in gaps
    assert _fits(page)
    page.screenshot(path=str(tmp_path / "coverage.png"), full_page=True)
    page.context.close()
    assert DEFAULTS.experienced_percent != in_force.experienced_percent
