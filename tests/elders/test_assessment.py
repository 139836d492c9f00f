"""GB/T 42195-2022 levels at every cut-off and adjustment, worked by hand."""

import pytest

from backend.elders.assessment import capability_level, level_from_total


@pytest.mark.parametrize("total, level", [
    (90, 0), (89, 1), (66, 1), (65, 2), (46, 2), (45, 3), (30, 3), (29, 4), (0, 4),
])
def test_level_cut_offs(total, level):
    assert level_from_total(total) == level


def _scores(total):
    """Split a total over the four groups without passing any group's maximum."""
    out, left = {}, total
    for name, cap in (("self_care", 32), ("motion", 15), ("mental", 28), ("perception", 15)):
        out[name] = min(cap, left)
        left -= out[name]
    return out


def test_full_marks_are_intact():
    assert capability_level(**_scores(90)) == (90, 0)


def test_coma_is_complete_loss_whatever_the_scores():
    assert capability_level(**_scores(90), is_coma=True) == (90, 4)


def test_dementia_makes_the_level_one_worse():
    assert capability_level(**_scores(70), has_dementia=True) == (70, 2)


def test_two_care_risk_events_make_the_level_one_worse_but_one_does_not():
    assert capability_level(**_scores(50), care_risk_events_30d=1) == (50, 2)
    assert capability_level(**_scores(50), care_risk_events_30d=2) == (50, 3)


def test_both_adjustments_add_up():
    assert capability_level(**_scores(90), has_dementia=True, care_risk_events_30d=3) == (90, 2)


def test_no_adjustment_goes_past_level_four():
    assert capability_level(**_scores(35), has_dementia=True, care_risk_events_30d=2) == (35, 4)


@pytest.mark.parametrize("group, value", [("self_care", 33), ("motion", 16), ("mental", -1), ("perception", 16)])
def test_a_group_score_out_of_range_is_refused(group, value):
    scores = _scores(0) | {group: value}
    with pytest.raises(ValueError, match=group):
        capability_level(**scores)
