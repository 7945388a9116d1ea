from datetime import date

import pytest

from dajiuzhu.core.idnumber import (
    InvalidIdNumber,
    check_char,
    make_id_number,
    mask_id_number,
    mask_phone,
    parse_id_number,
)

# A published example of a valid number (GB 11643-1999 annex): 11010519491231002X.
VALID = "11010519491231002X"


def test_it_reads_birth_date_and_sex_from_a_valid_number():
    parsed = parse_id_number(VALID)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"
    assert parsed.region_code == "110105"


def test_it_accepts_a_lowercase_x():
    assert parse_id_number(VALID.lower()).number == VALID


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "id_number.format"),
        ("1101051949123100", "id_number.format"),
        ("11010519491231002X1", "id_number.format"),
        ("1101051949123100AX", "id_number.format"),
        ("110105194912310021", "id_number.checksum"),
        ("320402" + "20230230" + "001", "id_number.birth_date"),  # 30 February
        ("320402" + "29990101" + "001", "id_number.birth_date"),  # in the future
        ("320402" + "18000101" + "001", "id_number.birth_date"),  # implausibly old
    ],
)
def test_it_refuses_bad_numbers_with_a_stable_code(raw, code):
    if len(raw) == 17:
        raw = raw + check_char(raw)
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(raw)
    assert info.value.code == code
    assert info.value.message  # a Chinese message for pages


def test_generated_numbers_are_valid_and_odd_sequences_are_male():
    number = make_id_number("320412", date(1990, 1, 2), 13)
    parsed = parse_id_number(number)
    assert parsed.sex == "M"
    assert parsed.region_code == "320412"


def test_masking_keeps_four_and_four():
    assert mask_id_number("32040219800101123X") == "3204**********123X"
    assert mask_phone("13912345678") == "139****5678"
