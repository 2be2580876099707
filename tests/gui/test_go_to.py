"""The Go-to box's parsing: MNI coordinates in the forms people type, and ROI names."""

from __future__ import annotations

import numpy as np
import pytest

from gui.go_to import find_roi, go_to, parse_mni

NAMES = ["7Networks_LH_Default_pCunPCC_1", "7Networks_LH_Default_PFC_1",
         "7Networks_RH_Default_pCunPCC_2", "7Networks_LH_Limbic_TempPole_1", "Subcortical_PCC"]
COORDS = np.array([[-6.0, -52.0, 26.0], [-20.0, 40.0, 30.0], [8.0, -55.0, 30.0],
                   [-40.0, 12.0, -35.0], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("text", ["0, -52, 26", "0 -52 26", "(0; -52; 26)", "x=0 y=-52 z=26",
                                  "0,-52,26 mm", "[0 , -52 , 26]", "X: 0, Y: −52, Z: 26",
                                  "  0.0 -52. 26  "])
def test_coordinates_in_the_forms_people_type(text):
    assert parse_mni(text) == (0.0, -52.0, 26.0)
    result = go_to(text, NAMES, COORDS)
    assert result.found and result.xyz_mm == (0.0, -52.0, 26.0)
    assert result.message == "MNI (0, -52, 26) mm"


@pytest.mark.parametrize("text", ["0, -52", "1 2 3 4"])
def test_wrong_count_of_numbers_says_so(text):
    with pytest.raises(ValueError, match="expected three numbers"):
        parse_mni(text)
    result = go_to(text, NAMES, COORDS)
    assert not result.found and "expected three numbers" in result.message


def test_names_with_digits_are_not_coordinates():
    assert parse_mni("LH_Default_PFC_1") is None
    assert go_to("LH_Default_PFC_1", NAMES, COORDS).xyz_mm == (-20.0, 40.0, 30.0)


def test_roi_names_match_case_insensitive_and_partial_best_first():
    assert find_roi("lh_default_pfc_1", NAMES) == [1]  # exact, shown name
    assert find_roi("7networks_lh_default_pfc_1", NAMES) == [1]  # exact, full name
    assert find_roi("lh_default", NAMES) == [0, 1]  # prefix
    assert find_roi("pcunpcc", NAMES) == [0, 2]  # contained
    assert find_roi("PCC", NAMES) == [4, 0, 2]  # Subcortical_PCC ends with it: contained too
    assert find_roi("default pcc", NAMES) == [0, 2]  # every word
    assert find_roi("temppole", NAMES) == [3]
    assert find_roi("amygdala", NAMES) == []


def test_roi_result_names_the_roi_its_centre_and_other_matches():
    result = go_to("pcunpcc", NAMES, COORDS)
    assert result.xyz_mm == (-6.0, -52.0, 26.0) and result.roi == 0
    assert result.message == ("ROI LH_Default_pCunPCC_1, centre (-6, -52, 26) mm · 1 other "
                              "matches: RH_Default_pCunPCC_2")


def test_nothing_found_or_no_coordinates_is_explained():
    assert "no ROI name contains 'amygdala'" in go_to("amygdala", NAMES, COORDS).message
    result = go_to("temppole", NAMES, None)
    assert not result.found and "has no position" in result.message
    assert not go_to("   ", NAMES, COORDS).found
