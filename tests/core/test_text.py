"""The one formula guard of every export, and the control-character check of stored text."""

from __future__ import annotations

import pytest

from dajiuzhu.core.text import guard_cell, has_control_chars, unguard_cell
from tests.spreadsheets import EVIL_CELLS, dangerous


@pytest.mark.parametrize("value", EVIL_CELLS)
def test_every_formula_start_is_guarded_and_restored(value):
    guarded = guard_cell(value)
    assert guarded == "'" + value
    assert not dangerous(guarded)
    assert unguard_cell(guarded) == value


@pytest.mark.parametrize("value", ["张三", "abc", "-5", "+3.20", "1200.50", "", "a=b", "C-1"])
def test_plain_text_and_numbers_are_left_alone(value):
    assert guard_cell(value) == value
    assert unguard_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty():
    assert guard_cell(-5) == -5
    assert guard_cell(2.5) == 2.5
    assert guard_cell(None) == ""
    assert guard_cell(True) == "True"


def test_a_departments_own_apostrophe_survives_the_round_trip():
    assert unguard_cell("'abc") == "'abc"
    assert unguard_cell(guard_cell("'=1")) == "'=1"


@pytest.mark.parametrize("text", ["王\x00五", "地址\x1b尾", "a\x7fb", "a\x85b", "\x0c"])
def test_control_characters_are_found(text):
    assert has_control_chars(text)


def test_tabs_and_line_breaks_are_text_except_in_single_line_fields():
    assert not has_control_chars("第一\n分院\t二楼\r\n")
    assert has_control_chars("王\n五", single_line=True)
    assert not has_control_chars("王五", single_line=True)
    assert not has_control_chars("")
