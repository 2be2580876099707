"""One way to print ROI names, p and q values, and numbers without a negative zero."""

from __future__ import annotations

import math

import pytest

from core.display_text import format_number, format_p, roi_display_name


@pytest.mark.parametrize(("name", "shown"), [
    ("7Networks_LH_Default_pCunPCC_2", "LH_Default_pCunPCC_2"),
    ("17Networks_RH_DefaultA_PFCm_1", "RH_DefaultA_PFCm_1"),
    ("Subcortical_03", "Subcortical_03"),
    ("Networks_odd", "Networks_odd"),  # no number before "Networks_": not Schaefer's prefix
    ("LH_Default_PFC_1", "LH_Default_PFC_1"),
])
def test_roi_display_name_drops_only_the_schaefer_prefix(name, shown):
    assert roi_display_name(name) == shown


@pytest.mark.parametrize(("value", "text"), [
    (1.0, "1.00"), (0.961, "0.961"), (0.05, "0.0500"), (0.0012345, "0.00123"),
    (0.001, "0.00100"), (0.00099, "9.90e-04"), (8.7e-4, "8.70e-04"), (3.2e-12, "3.20e-12"),
    (0.0, "0"), (math.nan, ""),
])
def test_format_p_three_significant_digits_scientific_below_a_thousandth(value, text):
    assert format_p(value) == text


def test_format_p_keeps_three_significant_digits_everywhere():
    for value in (0.5, 0.0505, 0.00505, 0.000505, 5.05e-9):
        digits = format_p(value).split("e")[0].replace("0.", "").lstrip("0").replace(".", "")
        assert len(digits) == 3, (value, format_p(value))


@pytest.mark.parametrize(("value", "spec", "text"), [
    (-0.001, "+.2f", "+0.00"), (-0.001, ".2f", "0.00"), (-0.0, "+.0f", "+0"),
    (-0.4, "+.0f", "+0"), (-0.6, "+.0f", "-1"), (-0.004, ".3f", "-0.004"),
    (-1e-9, ".2e", "-1.00e-09"), (0.0, "+.3f", "+0.000"), (math.inf, ".2f", "—"),
])
def test_format_number_never_prints_negative_zero(value, spec, text):
    assert format_number(value, spec) == text
