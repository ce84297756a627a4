"""Tests of the pure identifier checks: credit codes, resident IDs, regions, phones, masking."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.organisations.validators import (
    CREDIT_CODE_ALPHABET,
    CREDIT_CODE_AUTHORITIES,
    CREDIT_CODE_WEIGHTS,
    RESIDENT_ID_PROVINCES,
    RESIDENT_ID_WEIGHTS,
    birth_date_from_resident_id,
    credit_code_check_char,
    credit_code_problem,
    full_region_code,
    is_valid_credit_code,
    is_valid_resident_id,
    make_credit_code,
    make_resident_id,
    mask_id_number,
    mask_name,
    normalise_mobile,
    normalise_region_code,
    organisation_code_check_char,
    resident_id_check_char,
    resident_id_problem,
)

TODAY = date.today()

# --- strategies ---------------------------------------------------------------------------

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def resident_id_prefixes(draw: st.DrawFn) -> str:
    """17 digits with a real province and a birth date between 1900-01-01 and today."""
    province = draw(st.sampled_from(sorted(RESIDENT_ID_PROVINCES)))
    rest_of_region = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(min_value=0, max_value=999))
    return f"{province}{rest_of_region}{birth:%Y%m%d}{sequence:03d}"


@st.composite
def resident_ids(draw: st.DrawFn) -> str:
    """Valid 18-character resident IDs."""
    prefix = draw(resident_id_prefixes())
    return prefix + resident_id_check_char(prefix)


@st.composite
def credit_codes(draw: st.DrawFn) -> str:
    """Valid credit codes with random authority, category, division and organisation code."""
    authority = draw(st.sampled_from(sorted(CREDIT_CODE_AUTHORITIES)))
    category = draw(st.sampled_from(CREDIT_CODE_ALPHABET))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    body = draw(st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=8, max_size=8))
    first17 = authority + category + division + body + organisation_code_check_char(body)
    return first17 + credit_code_check_char(first17)


@st.composite
def short_region_codes(draw: st.DrawFn) -> str:
    """Short-form division codes: 2, 4 or 6 digits whose last pair is not '00'."""
    nonzero_pair = st.integers(min_value=1, max_value=99).map(lambda n: f"{n:02d}")
    any_pair = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")
    levels = draw(st.integers(min_value=1, max_value=3))
    pairs = [draw(any_pair) for _ in range(levels - 1)] + [draw(nonzero_pair)]
    return "".join(pairs)


# --- credit codes -------------------------------------------------------------------------


def test_commonly_cited_credit_code_is_valid() -> None:
    assert is_valid_credit_code("91350100M000100Y43")
    assert credit_code_problem("91350100M000100Y43") is None


def test_credit_code_is_normalised_before_checking() -> None:
    assert is_valid_credit_code("  91350100m000100y43 \n")


def test_credit_code_alphabet_and_weights_are_the_standards() -> None:
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOZSV") & set(CREDIT_CODE_ALPHABET)
    # The weights are 3**i mod 31.
    assert list(CREDIT_CODE_WEIGHTS) == [pow(3, i, 31) for i in range(17)]


def test_organisation_code_check_char() -> None:
    # M=22 and Y=34 in GB 11714: 22*3 + 1*5 + 34*2 = 139, 11 - 139 % 11 = 4.
    assert organisation_code_check_char("M000100Y") == "4"
    assert organisation_code_check_char("00000000") == "0"  # 11 is written 0
    # 1*5 + 2*2 = 9: 11 - 9 = 2.
    assert organisation_code_check_char("00001002") == "2"
    assert organisation_code_check_char("00000001") == "9"
    assert organisation_code_check_char("00000010") == "7"
    with pytest.raises(ValueError):
        organisation_code_check_char("0000000")


def test_organisation_code_check_x() -> None:
    # '00000030' sums to 3*4 = 12; 11 - 12 % 11 = 10, written X.
    assert organisation_code_check_char("00000030") == "X"


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("", ("must be 18 characters", {})),
        ("91350100M000100Y4", ("must be 18 characters", {})),
        (
            "91350100M000100I43",
            ("character {position} ({char}) is not allowed", {"position": "16", "char": "I"}),
        ),
        ("91350100M000100Y44", ("check character should be {expected}", {"expected": "3"})),
        (
            "91350100M000100Y53",
            ("organisation code check character should be {expected}", {"expected": "4"}),
        ),
    ],
)
def test_credit_code_problems(code: str, problem: tuple[str, dict[str, str]]) -> None:
    assert credit_code_problem(code) == problem
    assert not is_valid_credit_code(code)


def _with_checks(first16: str) -> str:
    first17 = first16 + organisation_code_check_char(first16[8:16])
    return first17 + credit_code_check_char(first17)


def test_credit_code_unknown_authority_is_reported_even_with_correct_checks() -> None:
    code = _with_checks("C1350100M000100Y")
    assert credit_code_problem(code) == (
        "unknown registration authority code {code}",
        {"code": "C"},
    )


def test_credit_code_division_must_be_digits() -> None:
    code = _with_checks("9135A100M000100Y")
    assert credit_code_problem(code) == ("characters 3 to 8 must be a 6-digit division code", {})


def test_credit_code_problem_templates_format() -> None:
    problem = credit_code_problem("91350100M000100Y44")
    assert problem is not None
    template, params = problem
    assert template.format(**params) == "check character should be 3"


def test_credit_code_check_char_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100Y")  # 16 characters
    with pytest.raises(ValueError):
        credit_code_check_char("91350100M000100I4")  # I is not in the alphabet


@given(credit_codes())
def test_generated_credit_codes_are_valid(code: str) -> None:
    assert is_valid_credit_code(code)


@given(credit_codes(), st.data())
def test_any_other_check_char_fails(code: str, data: st.DataObject) -> None:
    other = data.draw(st.sampled_from(CREDIT_CODE_ALPHABET).filter(lambda ch: ch != code[17]))
    assert not is_valid_credit_code(code[:17] + other)


@given(credit_codes(), st.integers(min_value=0, max_value=17), st.data())
def test_credit_code_single_substitution_is_detected(
    code: str, position: int, data: st.DataObject
) -> None:
    replacement = data.draw(
        st.sampled_from(CREDIT_CODE_ALPHABET + "IOZSV-*/ ").filter(lambda ch: ch != code[position])
    )
    changed = code[:position] + replacement + code[position + 1 :]
    assert not is_valid_credit_code(changed)


def test_mod31_weights_detect_every_adjacent_transposition() -> None:
    # Swapping values a != b at positions i, i+1 changes the weighted sum by
    # (a - b) * (w[i] - w[i+1]); 31 is prime and |a - b| < 31, so the change is zero mod 31
    # only if w[i] == w[i+1] mod 31. The check character itself weighs 1.
    weights = [*CREDIT_CODE_WEIGHTS, 1]
    for i in range(17):
        assert (weights[i] - weights[i + 1]) % 31 != 0
    # And exhaustively over every pair of alphabet values, for every position.
    for i in range(17):
        for a in range(31):
            for b in range(31):
                if a != b:
                    assert ((a - b) * (weights[i] - weights[i + 1])) % 31 != 0


@given(credit_codes())
def test_credit_code_adjacent_transposition_is_detected(code: str) -> None:
    for i in range(17):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
            assert not is_valid_credit_code(swapped), (code, i)


@given(
    st.sampled_from(["14", "1401", "140105", "140100", "150602"]),
    st.integers(min_value=0, max_value=99_999_999),
)
def test_make_credit_code_builds_valid_codes(region: str, org_seq: int) -> None:
    code = make_credit_code(region=region, org_seq=org_seq)
    assert is_valid_credit_code(code)
    assert code[:2] == "91"
    assert code[2:8] == full_region_code(normalise_region_code(region) or "")


def test_make_credit_code_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_credit_code(region="14", org_seq=-1)
    with pytest.raises(ValueError):
        make_credit_code(region="1", org_seq=1)
    with pytest.raises(ValueError):
        make_credit_code(region="14", org_seq=1, authority="C1")


# --- resident IDs -------------------------------------------------------------------------


def test_standard_example_resident_id_is_valid() -> None:
    assert is_valid_resident_id("11010519491231002X")
    assert is_valid_resident_id("11010519491231002x")  # lowercase x is normalised
    assert birth_date_from_resident_id("11010519491231002X") == date(1949, 12, 31)


def test_resident_id_weights_are_powers_of_two() -> None:
    assert list(RESIDENT_ID_WEIGHTS) == [pow(2, 17 - i, 11) for i in range(17)]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("1101051949123100", ("must be 18 characters", {})),
        ("110105194912310021X", ("must be 18 characters", {})),
        ("1101051949123100AX", ("the first 17 characters must be digits", {})),
        ("11010519491231002Y", ("the last character must be a digit or X", {})),
        ("990105194912310021", ("unknown province code {code}", {"code": "99"})),
        ("110105199913320021", ("birth date {date} is not a date", {"date": "19991332"})),
        ("110105190002290021", ("birth date {date} is not a date", {"date": "19000229"})),
        ("110105189912310021", ("birth date {date} is out of range", {"date": "18991231"})),
        ("110105194912310021", ("check digit should be {expected}", {"expected": "X"})),
    ],
)
def test_resident_id_problems(value: str, problem: tuple[str, dict[str, str]]) -> None:
    assert resident_id_problem(value) == problem
    assert not is_valid_resident_id(value)


def test_resident_id_birth_date_in_the_future_is_rejected() -> None:
    number = make_resident_id(birth=date(2020, 5, 17), sequence=1)
    assert resident_id_problem(number, today=date(2020, 5, 17)) is None
    assert resident_id_problem(number, today=date(2020, 5, 16)) == (
        "birth date {date} is out of range",
        {"date": "20200517"},
    )


def test_taiwan_residence_permit_prefix_is_accepted() -> None:
    prefix = "83000019900101001"
    assert is_valid_resident_id(prefix + resident_id_check_char(prefix))


def test_birth_date_from_invalid_resident_id_raises() -> None:
    with pytest.raises(ValueError, match="check digit should be X"):
        birth_date_from_resident_id("110105194912310021")


@given(resident_id_prefixes())
def test_computed_check_char_validates_and_no_other_does(prefix: str) -> None:
    check = resident_id_check_char(prefix)
    assert is_valid_resident_id(prefix + check)
    for other in "0123456789X":
        if other != check:
            assert not is_valid_resident_id(prefix + other)


@given(resident_ids(), st.integers(min_value=0, max_value=17), st.data())
def test_resident_id_single_substitution_is_detected(
    number: str, position: int, data: st.DataObject
) -> None:
    replacement = data.draw(
        st.sampled_from("0123456789XA ").filter(lambda ch: ch != number[position])
    )
    changed = number[:position] + replacement + number[position + 1 :]
    assert not is_valid_resident_id(changed)


@given(resident_ids())
def test_resident_id_adjacent_transposition_is_detected(number: str) -> None:
    # MOD 11-2 weighs consecutive positions 2**k and 2**(k+1), whose difference is never
    # 0 mod 11, so every swap of two different digits is caught as well.
    for i in range(17):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
            assert not is_valid_resident_id(swapped), (number, i)


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
    st.sampled_from(["140105", "1401", "14", "610802", "830000"]),
)
def test_make_resident_id_builds_valid_ids(birth: date, sequence: int, region: str) -> None:
    number = make_resident_id(region=region, birth=birth, sequence=sequence)
    assert is_valid_resident_id(number)
    assert birth_date_from_resident_id(number) == birth
    assert number[:6] == full_region_code(normalise_region_code(region) or "")
    assert number[14:17] == f"{sequence:03d}"


def test_make_resident_id_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_resident_id(birth=date(1990, 1, 1), sequence=1000)
    with pytest.raises(ValueError):
        make_resident_id(region="99", birth=date(1990, 1, 1), sequence=1)
    with pytest.raises(ValueError):
        make_resident_id(birth=date(1899, 12, 31), sequence=1)


# --- regions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14", "14"),
        ("140000", "14"),
        ("1400", "14"),
        ("1401", "1401"),
        ("140100", "1401"),
        ("140105", "140105"),
        (" 140105 ", "140105"),
        ("140001", "140001"),
        ("000000", None),
        ("00", None),
        ("", None),
        ("1", None),
        ("140", None),
        ("14010", None),
        ("1401050", None),
        ("14a105", None),
        ("１４", None),  # full-width digits are not accepted silently
    ],
)
def test_normalise_region_code(value: str, expected: str | None) -> None:
    assert normalise_region_code(value) == expected


@given(short_region_codes())
def test_region_code_round_trips(code: str) -> None:
    assert normalise_region_code(code) == code
    assert normalise_region_code(full_region_code(code)) == code
    assert full_region_code(code).startswith(code)
    assert len(full_region_code(code)) == 6


# --- mobile numbers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("19912345678", "19912345678"),
        ("12800138000", None),  # no 12x mobile prefix
        ("1380013800", None),  # 10 digits
        ("138001380001", None),  # 12 digits
        ("+1 13800138000", None),
        ("010-12345678", None),  # a Beijing landline
        ("1380013800a", None),
        ("", None),
    ],
)
def test_normalise_mobile(value: str, expected: str | None) -> None:
    assert normalise_mobile(value) == expected


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "86"]))
def test_mobile_round_trip(number: str, prefix: str) -> None:
    spaced = f"{prefix} {number[:3]} {number[3:7]}-{number[7:]}"
    assert normalise_mobile(spaced) == number
    assert normalise_mobile(number) == number


# --- masking ------------------------------------------------------------------------------


def test_mask_id_number() -> None:
    assert mask_id_number("14010519491231123X") == "140105********123X"
    assert mask_id_number("14010519491231123x") == "140105********123X"
    assert mask_id_number("E12345678") == "E******78"  # short numbers keep less
    assert mask_id_number("1234") == "****"


@given(resident_ids())
def test_masked_id_hides_the_birth_date(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked[:6] == number[:6]
    assert masked[-4:] == number[-4:]
    assert masked[6:14] == "*" * 8


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三丰", "张**"),
        ("李四", "李*"),
        ("欧阳娜娜", "欧***"),
        ("王", "王"),
        ("阿依古丽·买买提", "阿***·***"),
        ("John Smith", "J*** S****"),
        ("Mary-Jane Watson", "M***-J*** W*****"),
        ("li wei", "l* w**"),
        ("", ""),
    ],
)
def test_mask_name(value: str, expected: str) -> None:
    assert mask_name(value) == expected


@settings(max_examples=50)
@given(st.text(min_size=1, max_size=12))
def test_mask_name_never_lengthens(value: str) -> None:
    assert len(mask_name(value)) == len(value.strip())
