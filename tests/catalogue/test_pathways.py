"""Checking a chosen pathway: what is refused outright (barred pairs, group maximums, units from
elsewhere), what is only still missing, on the built-in qualifications and against the brute-force
references on random rules."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfolio.catalogue.pathways import check_pathway
from portfolio.catalogue.rules import Group, Rules
from tests.helpers.brute_force import may_count_together, rule_sets, score, structure


def test_barred_pair_is_refused_in_the_learners_words(builtin_specs):
    nvq = builtin_specs["600/1257/2"].structure
    check = check_pathway(nvq, ["01", "02", "03", "04", "05", "13", "16"])
    assert not check.may_save
    assert [p.message for p in check.refusals] == ["Units 13 and 16 cannot both count: choose one."]
    assert check.refusals_in("C") == ["Units 13 and 16 cannot both count: choose one."]


def test_incomplete_choice_may_be_saved_with_its_shortfalls(builtin_specs):
    nvq = builtin_specs["600/1257/2"].structure
    # Mandatory 01 and 02 (6 credits), 03 alone from group B.
    check = check_pathway(nvq, ["01", "02", "03"])
    assert check.may_save and not check.complete
    b_credits = nvq.units["03"].credit
    assert check.group_credits["B"] == b_credits
    assert check.shortfalls_in("B") == [
        f"Group B needs at least 12 credits: the chosen units give {b_credits}."]
    messages = [p.message for p in check.shortfalls]
    assert any(m.startswith("10 credits must come from Group B or Group C beyond their own "
                            "minimums") for m in messages)
    assert any(m.startswith("The qualification needs at least 28 credits") for m in messages)


def test_missing_mandatory_unit_is_named(builtin_specs):
    diploma = builtin_specs["600/9662/7"].structure
    check = check_pathway(diploma, ["1", "2", "3"])
    assert check.shortfalls_in("A") == ["Unit 4 is mandatory."]


def test_diploma_total_is_checked_and_a_full_choice_is_complete(builtin_specs):
    diploma = builtin_specs["600/9662/7"].structure
    mandatory = ["1", "2", "3", "4"]
    check = check_pathway(diploma, mandatory + ["5"])
    given_credits = sum(diploma.units[n].credit for n in mandatory + ["5"])
    assert [p.message for p in check.shortfalls] == [
        f"The qualification needs at least 37 credits: the chosen units give {given_credits}."]
    optional = [n for n in diploma.group_of if n not in mandatory]
    chosen, credits = list(mandatory), given_credits - diploma.units["5"].credit
    for n in optional:
        if credits >= 37:
            break
        chosen.append(n)
        credits += diploma.units[n].credit
    assert check_pathway(diploma, chosen).complete


def test_group_maximum_and_foreign_units_are_refused():
    shaped = structure([("a", 2, 5, 1), ("b", 2, 5, 1), ("c", 2, 5, 1)],
                       Rules(min_credits=5, groups=(Group("A", ("a", "b", "c"), max_credits=10,
                                                          max_units=2),)))
    check = check_pathway(shaped, ["a", "b", "c", "zz"])
    assert [p.message for p in check.refusals] == [
        "Unit zz is not part of this qualification.",
        "Group A allows at most 10 credits: the chosen units give 15.",
        "Group A allows at most 2 units: 3 are chosen.",
    ]


def test_pathway_check_imports_no_web_framework_or_database():
    code = ("import sys, portfolio.catalogue.pathways; "
            "bad = {'flask', 'sqlalchemy', 'werkzeug'} & set(sys.modules); "
            "print(','.join(sorted(bad))); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shaped=rule_sets())
def test_check_matches_brute_force_on_random_rules(data, shaped):
    """Saveable exactly when the chosen units may all count together; complete exactly when,
    all counting, they satisfy every rule; as many shortfalls as the reference's unmet rules."""
    chosen = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True)))
    check = check_pathway(shaped, chosen)
    together = may_count_together(shaped, chosen)
    assert check.may_save == together
    if together:
        unmet = score(shaped, chosen)[0]
        assert len(check.shortfalls) == unmet
        assert check.complete == (unmet == 0)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_check_matches_brute_force_on_the_builtin_qualifications(builtin_specs, data):
    shaped = builtin_specs[data.draw(st.sampled_from(sorted(builtin_specs)))].structure
    chosen = set(data.draw(st.lists(st.sampled_from(list(shaped.units)), unique=True,
                                    max_size=12)))
    check = check_pathway(shaped, chosen)
    assert check.may_save == may_count_together(shaped, chosen)
    if check.may_save:
        assert check.complete == (score(shaped, chosen)[0] == 0)
