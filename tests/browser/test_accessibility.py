"""axe-core (WCAG 2.2 AA rules) on every page, as each role that reaches it and logged out, on a
phone (390x844) and a laptop (1280x800): any serious or critical violation fails, listed by
rule, impact and the elements concerned.

The pages come from the app's URL map: a GET route with no entry in PAGES (nor in NOT_PAGES, for
routes that answer no HTML page) fails test_every_get_route_is_visited, so a new page cannot
escape the check. Ids come from one seeded centre (tests/helpers/showcase.py).

Violations known on pages whose templates belong to other work in progress are marked per page
in KNOWN as strict expected failures, with the reason: when that work fixes them the test
XPASSes and fails, and the mark is removed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from portfolio.extensions import db
from tests.browser.conftest import chromium, serving
from tests.helpers.browser import log_in_page
from tests.helpers.mail import with_mail
from tests.helpers.showcase import SLUG, Showcase, seed_showcase

pytestmark = pytest.mark.browser

LOGGED_OUT = "logged out"
LEARNER, ASSESSOR, IQA, ADMIN = "learner", "assessor", "iqa", "centre_admin"
EVERYONE = (LEARNER, ASSESSOR, IQA, ADMIN)
ON_THE_RECORD = (LEARNER, ASSESSOR, IQA, ADMIN)  # everyone who may view the enrolment
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
FAILING = ("serious", "critical")

#: GET routes that answer no HTML page, with why.
NOT_PAGES = {
    "static": "stylesheets and scripts",
    "evidence.download": "a stored file, sent from the object store",
    "evidence.image": "a thumbnail or preview image",
    "assessment.next_awaiting": "a redirect to the next item waiting for the assessor",
    "uploads.status": "JSON: which parts of a resumable upload have arrived",
    "standardisation.item_file": "a stored file of an item discussed, from the object store",
    "standardisation.exemplar_file": "a stored exemplar, from the object store",
    "trail.figures_csv": "a CSV download of the sampling trail's figures",
    "trail.samples_csv": "a CSV download of the sampling trail's samples",
    "trail.pdf": "the sampling trail as a PDF download",
    "health.healthz": "JSON for a load balancer: the process answers",
    "health.readyz": "JSON for a load balancer: the database and the store answer",
}


@dataclass(frozen=True)
class Page:
    path: Callable[[Showcase], str]
    roles: tuple[str, ...]


def _enrolment(tail: str) -> Callable[[Showcase], str]:
    return lambda s: f"/enrolments/{s.enrolment_id}{tail}"


STANDARDISATION = "/quality/standardisation/"


def _standardisation(tail: str) -> Callable[[Showcase], str]:
    """A page of the blind activity; ``{e}`` in ``tail`` is its one piece of evidence."""
    return lambda s: (f"{STANDARDISATION}{s.standardisation_id}"
                      f"{tail.format(e=s.standardised_evidence_id)}")


PAGES: dict[str, Page] = {
    "accounts.login": Page(lambda s: "/login", (LOGGED_OUT,)),
    "passwords.forgot": Page(lambda s: "/password/forgot", (LOGGED_OUT,)),
    "passwords.set_password": Page(lambda s: f"/password/set/{s.password_token}", (LOGGED_OUT,)),
    "accounts.home": Page(lambda s: "/", EVERYONE),
    "people.profile": Page(lambda s: "/account", EVERYONE),
    "notifications.preferences": Page(lambda s: "/account/notifications", EVERYONE),
    "notifications.inbox": Page(lambda s: "/notifications", EVERYONE),
    "accounts.change_password": Page(lambda s: "/account/password", EVERYONE),
    "catalogue.index": Page(lambda s: "/catalogue/", EVERYONE),
    "catalogue.qualification": Page(lambda s: f"/catalogue/{SLUG}", EVERYONE),
    "catalogue.unit": Page(lambda s: f"/catalogue/{SLUG}/units/{s.signed_off_unit}", EVERYONE),
    "accounts.audit_trail": Page(lambda s: "/admin/audit", (ADMIN,)),
    "accounts.catalogue_import": Page(lambda s: "/admin/catalogue", (ADMIN,)),
    "accounts.enrolments": Page(lambda s: "/admin/enrolments", (ADMIN,)),
    "accounts.users": Page(lambda s: "/admin/users", (ADMIN,)),
    "people.show": Page(lambda s: f"/admin/users/{s.learner_id}", (ADMIN,)),
    "imports.upload": Page(lambda s: "/admin/users/import", (ADMIN,)),
    "assessment.caseload": Page(lambda s: "/caseload", (ASSESSOR,)),
    "trail.page": Page(lambda s: "/quality/trail", (IQA, ADMIN)),
    "enrolments.show": Page(_enrolment("/record"), ON_THE_RECORD),
    "evidence.index": Page(_enrolment("/evidence"), ON_THE_RECORD),
    "evidence.new": Page(_enrolment("/evidence/new"), (LEARNER,)),
    "assessment.progress": Page(_enrolment("/progress"), ON_THE_RECORD),
    "assessment.grid": Page(_enrolment("/grid"), ON_THE_RECORD),
    "assessment.criterion": Page(lambda s: f"/enrolments/{s.enrolment_id}/criteria/"
                                           f"{s.criterion_id}", ON_THE_RECORD),
    "assessment.unlock": Page(lambda s: f"/enrolments/{s.enrolment_id}/sign-offs/"
                                        f"{s.sign_off_id}/unlock", (ADMIN,)),
    "assessment.prior_achievement": Page(lambda s: f"/enrolments/{s.enrolment_id}/units/"
                                                   f"{s.open_unit_id}/prior", (ASSESSOR,)),
    "evidence.show": Page(lambda s: f"/evidence/{s.judged_item_id}", ON_THE_RECORD),
    "evidence.claims": Page(lambda s: f"/evidence/{s.awaiting_item_id}/claims", (LEARNER,)),
    "assessment.judge": Page(lambda s: f"/evidence/{s.awaiting_item_id}/judge", (ASSESSOR,)),
    "quality.home": Page(lambda s: "/quality", (ASSESSOR, IQA)),
    "quality.open_sample": Page(lambda s: f"/quality/enrolments/{s.enrolment_id}/units/"
                                          f"{s.open_unit_id}/sample", (IQA,)),
    "quality.open_planned": Page(lambda s: f"/quality/planned/{s.planned_sample_id}/sample",
                                 (IQA,)),
    "quality.countersignatures": Page(lambda s: "/quality/countersignatures", (IQA,)),
    "quality.sample": Page(lambda s: f"/quality/samples/{s.sample_id}", (ASSESSOR, IQA, ADMIN)),
    "standardisation.index": Page(lambda s: STANDARDISATION, (ASSESSOR, IQA, ADMIN)),
    "standardisation.new": Page(lambda s: f"{STANDARDISATION}new", (IQA, ADMIN)),
    "standardisation.show": Page(_standardisation(""), (ASSESSOR, IQA, ADMIN)),
    "standardisation.evidence": Page(_standardisation("/evidence?q=Lena"), (IQA,)),
    "standardisation.discussed": Page(_standardisation("/evidence/{e}"), (ASSESSOR, IQA)),
    # The assessor has not judged (the form); the IQA has (their own judgement, alone).
    "standardisation.judge": Page(_standardisation("/evidence/{e}/judge"), (ASSESSOR, IQA)),
    "standardisation.result": Page(lambda s: f"{STANDARDISATION}{s.agreed_standardisation_id}"
                                             "/agreement", (ASSESSOR, IQA, ADMIN)),
    "countersigning.index": Page(lambda s: "/countersignatures", (ASSESSOR,)),
    "countersigning.decision": Page(
        lambda s: f"/countersignatures/decisions/{s.countersign_decision_id}", (ASSESSOR,)),
    "plans.strategy_page": Page(lambda s: "/quality/plans/strategy", (ADMIN,)),
    "plans.index": Page(lambda s: "/quality/plans/", (IQA, ADMIN)),
    "plans.show": Page(lambda s: f"/quality/plans/{s.plan_id}", (IQA, ADMIN)),
    "plans.edit": Page(lambda s: f"/quality/plans/{s.plan_id}/edit", (IQA,)),
    "plans.history": Page(lambda s: f"/quality/plans/{s.plan_id}/history", (IQA, ADMIN)),
    "plans.coverage": Page(lambda s: f"/quality/plans/{s.plan_id}/coverage", (IQA, ADMIN)),
}

def _cases():
    for endpoint, page in PAGES.items():
        for role in page.roles:
            for viewport in VIEWPORTS:
                yield pytest.param(endpoint, role, viewport,
                                   id=f"{endpoint}-{role.replace(' ', '_')}-{viewport}")


@pytest.fixture(scope="module")
def site(tmp_path_factory, builtin_specs):
    """The showcase centre on a live server with mail set up (never sent: no worker runs), and
    Chromium."""
    with serving(tmp_path_factory.mktemp("accessibility"), builtin_specs.values()) as app:
        with_mail(app, base_url=app.config["LIVE_URL"])  # the forgot-password form is offered
        with app.app_context():
            showcase = seed_showcase(db.session)
            db.session.commit()
        with chromium() as browser:
            yield app, showcase, browser


@pytest.fixture(scope="module")
def pages(site):
    """A page per (role, viewport), logged in once and kept for the module."""
    app, showcase, browser = site
    opened = {}

    def page_for(role: str, viewport: str):
        if (role, viewport) not in opened:
            context = browser.new_context(viewport=VIEWPORTS[viewport],
                                          is_mobile=viewport == "phone")
            page = context.new_page()
            if role != LOGGED_OUT:
                log_in_page(page, app.config["LIVE_URL"], showcase.emails[role])
            opened[role, viewport] = page
        return opened[role, viewport]

    yield page_for
    for page in opened.values():
        page.context.close()


def describe_violations(violations) -> str:
    """One paragraph per violation: rule, impact, what it means, where (a few selectors)."""
    lines = []
    for v in violations:
        targets = ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        more = f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else ""
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{targets}{more}]")
    return "\n".join(lines)


def test_every_get_route_is_visited(site):
    app = site[0]
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert not routes - PAGES.keys() - NOT_PAGES.keys(), "GET routes with no entry in PAGES"
    assert not (PAGES.keys() | NOT_PAGES.keys()) - routes, "entries for routes that are gone"


@pytest.mark.parametrize(("endpoint", "role", "viewport"), list(_cases()))
def test_no_serious_accessibility_violations(site, pages, endpoint, role, viewport):
    from axe_playwright_python.sync_playwright import Axe

    app, showcase, _ = site
    page = pages(role, viewport)
    response = page.goto(app.config["LIVE_URL"] + PAGES[endpoint].path(showcase))
    assert response.status == 200, f"{endpoint} as {role}: HTTP {response.status}"
    violations = Axe().run(page).response["violations"]
    failing = [v for v in violations if v["impact"] in FAILING]
    assert not failing, f"{endpoint} as {role} at {viewport}:\n{describe_violations(failing)}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_refusals_have_no_serious_violations(site, pages, viewport):
    """The error messages, summaries and marked fields of a refused submission, with their
    colours, pass too: a wrong password at login and a filter day that is no date on the audit
    trail; and the page for an address that leads nowhere."""
    from axe_playwright_python.sync_playwright import Axe

    app, _, _ = site
    base = app.config["LIVE_URL"]
    page = pages(LOGGED_OUT, viewport)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "nobody@showcase.example.org")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    page.wait_for_selector(".flash.error")
    refused = {"login": Axe().run(page).response["violations"]}
    page = pages(ADMIN, viewport)
    page.goto(f"{base}/admin/audit?since=31/02/2026")
    assert page.locator(".error-message").count(), "the audit filter took a day that is no date"
    refused["audit trail"] = Axe().run(page).response["violations"]
    assert page.goto(f"{base}/evidence/999999").status == 404
    refused["not found"] = Axe().run(page).response["violations"]
    failing = {name: [v for v in found if v["impact"] in FAILING]
               for name, found in refused.items()}
    assert not any(failing.values()), "\n".join(
        f"{name}:\n{describe_violations(found)}" for name, found in failing.items() if found)


def test_the_skip_link_comes_first_shows_on_focus_and_leads_to_the_main_content(site, pages):
    app, _, _ = site
    page = pages(ASSESSOR, "phone")
    page.goto(app.config["LIVE_URL"] + "/caseload")
    skip = page.locator("a.skip-link")
    assert not skip.is_visible() or skip.bounding_box()["y"] < 0
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
