"""Checks and normalisers for Chinese identifiers: credit codes, resident IDs, regions, phones.

Pure functions with no database access. The *_problem functions return a problem as a
`(template, params)` pair, e.g. ``("check digit should be {expected}", {"expected": "7"})``,
or None when the value is valid: the caller translates the template with gettext first and
formats it with the params afterwards, so one msgid serves every value.
"""

from __future__ import annotations

import random
import re
from datetime import date

from app.i18n import N_

Problem = tuple[str, dict[str, str]]

# --- unified social credit code (GB 32100-2015) -------------------------------------------

# 31 characters: the digits and the capitals without I, O, Z, S, V, which are too easily
# misread as 1, 0, 2, 5 and U.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Position 1 names the registration authority (9 market regulation, 1 establishment
# offices, 5 civil affairs, Y all others, ...). Only these codes are in use, so any other
# first character is a typing error.
CREDIT_CODE_AUTHORITIES = frozenset("123456789ABNY")
_CREDIT_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}

# GB 11714-1997 organisation code (positions 9-17 of a credit code): 8 body characters and
# its own check character. Letters count A=10 ... Z=35 there, unlike the credit alphabet.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_VALUE = {ch: int(ch, 36) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def organisation_code_check_char(first8: str) -> str:
    """Return the GB 11714 check character for an 8-character organisation code body."""
    if len(first8) != 8 or any(ch not in _ORG_VALUE for ch in first8):
        raise ValueError("an organisation code body is 8 digits or capital letters")
    total = sum(_ORG_VALUE[ch] * w for ch, w in zip(first8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    # GB 11714 writes 10 as X and 11 as 0 so the check always fits in one character.
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(ch not in _CREDIT_VALUE for ch in first17):
        raise ValueError("the first 17 characters must come from the credit code alphabet")
    total = sum(_CREDIT_VALUE[ch] * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(code: str) -> str:
    """Strip surrounding whitespace and uppercase, the form credit codes are stored in."""
    return code.strip().upper()


def credit_code_problem(code: str) -> Problem | None:
    """Return why `code` is not a valid credit code as (template, params), or None if valid."""
    value = normalise_credit_code(code)
    if len(value) != 18:
        return N_("must be 18 characters"), {}
    for position, ch in enumerate(value, start=1):
        if ch not in _CREDIT_VALUE:
            return (
                N_("character {position} ({char}) is not allowed"),
                {"position": str(position), "char": ch},
            )
    if value[0] not in CREDIT_CODE_AUTHORITIES:
        return N_("unknown registration authority code {code}"), {"code": value[0]}
    if not value[2:8].isdigit():
        return N_("characters 3 to 8 must be a 6-digit division code"), {}
    # The organisation code keeps its own check character; checking it catches codes that
    # were made up around a correct final character.
    org_expected = organisation_code_check_char(value[8:16])
    if value[16] != org_expected:
        return (
            N_("organisation code check character should be {expected}"),
            {"expected": org_expected},
        )
    expected = credit_code_check_char(value[:17])
    if value[17] != expected:
        return N_("check character should be {expected}"), {"expected": expected}
    return None


def is_valid_credit_code(code: str) -> bool:
    """True when `code` is a well-formed unified social credit code with correct checks."""
    return credit_code_problem(code) is None


# --- resident identity card number (GB 11643-1999) ----------------------------------------

# 2**(17 - i) mod 11 for i = 0..16: ISO 7064 MOD 11-2, in which the check itself weighs 1.
RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_ID_CHECK_CHARS = "10X98765432"
# Provincial-level codes that appear in ID numbers. 71/81/82 are in GB/T 2260; 83 is the
# prefix of residence permits issued to Taiwan residents, so it has to be accepted too.
RESIDENT_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
    "50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
EARLIEST_BIRTH_DATE = date(1900, 1, 1)
_DIGITS = re.compile(r"[0-9]+")


def resident_id_check_char(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of a resident ID."""
    if len(first17) != 17 or not _DIGITS.fullmatch(first17):
        raise ValueError("the first 17 characters of a resident ID are digits")
    total = sum(int(ch) * w for ch, w in zip(first17, RESIDENT_ID_WEIGHTS, strict=True))
    return RESIDENT_ID_CHECK_CHARS[total % 11]


def normalise_resident_id(value: str) -> str:
    """Strip surrounding whitespace and uppercase (a lowercase x is a common typing variant)."""
    return value.strip().upper()


def _parse_yyyymmdd(text: str) -> date | None:
    """Return the date written as YYYYMMDD, or None when no such day exists."""
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def resident_id_problem(value: str, *, today: date | None = None) -> Problem | None:
    """Return why `value` is not a valid resident ID as (template, params), or None if valid.

    Only the 18-character form is accepted: 15-digit first-generation numbers expired in 2013.
    """
    number = normalise_resident_id(value)
    if len(number) != 18:
        return N_("must be 18 characters"), {}
    if not _DIGITS.fullmatch(number[:17]):
        return N_("the first 17 characters must be digits"), {}
    if number[17] not in "0123456789X":
        return N_("the last character must be a digit or X"), {}
    if number[:2] not in RESIDENT_ID_PROVINCES:
        return N_("unknown province code {code}"), {"code": number[:2]}
    birth_text = number[6:14]
    birth = _parse_yyyymmdd(birth_text)
    if birth is None:
        return N_("birth date {date} is not a date"), {"date": birth_text}
    if not EARLIEST_BIRTH_DATE <= birth <= (today or date.today()):
        return N_("birth date {date} is out of range"), {"date": birth_text}
    expected = resident_id_check_char(number[:17])
    if number[17] != expected:
        return N_("check digit should be {expected}"), {"expected": expected}
    return None


def is_valid_resident_id(value: str) -> bool:
    """True when `value` is an 18-character resident ID with a real province, date and check."""
    return resident_id_problem(value) is None


def birth_date_from_resident_id(value: str) -> date:
    """Return the birth date in a valid resident ID; raise ValueError for an invalid one."""
    problem = resident_id_problem(value)
    if problem is not None:
        template, params = problem
        raise ValueError(template.format(**params))
    birth = _parse_yyyymmdd(normalise_resident_id(value)[6:14])
    assert birth is not None  # resident_id_problem has just parsed it
    return birth


# --- regions (GB/T 2260) -----------------------------------------------------------------

_REGION_INPUT = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}")


def normalise_region_code(value: str) -> str | None:
    """Return the short form of a division code ('140100' -> '1401'), or None if malformed."""
    code = value.strip()
    if not _REGION_INPUT.fullmatch(code):
        return None
    # Trailing '00' pairs mean "the whole level above", so they carry no information and
    # the short form makes jurisdiction a plain prefix match.
    while code.endswith("00"):
        code = code[:-2]
    return code or None


def full_region_code(code: str) -> str:
    """Pad a short division code to the 6-digit form of GB/T 2260 ('1401' -> '140100')."""
    if not _REGION_INPUT.fullmatch(code):
        raise ValueError("a division code has 2, 4 or 6 digits")
    return code.ljust(6, "0")


# --- mobile numbers -----------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_mobile(value: str) -> str | None:
    """Return a mainland mobile number as its 11 digits, or None if it is not one."""
    number = _PHONE_SEPARATORS.sub("", value)
    # The country code may be written +86, 0086 or 86; only strip it when what remains is
    # a full number, since no mainland mobile number itself starts with 86.
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix) :]
            break
    return number if _MOBILE.fullmatch(number) else None


# --- masking for display ------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    """Mask the middle of an ID number, keeping the first 6 and last 4 ('140105********123X')."""
    number = value.strip().upper()
    # The first 6 (region) and last 4 are what people compare when they check a record;
    # the birth date in between is the sensitive part.
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    # Shorter numbers (passports, permits) would be shown almost whole by the same rule.
    if len(number) >= 5:
        return number[0] + "*" * (len(number) - 3) + number[-2:]
    return "*" * len(number)


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_NAME_SEPARATORS = frozenset(" ·•.-'")


def mask_name(value: str) -> str:
    """Mask a person's name: '张三丰' -> '张**', 'John Smith' -> 'J*** S****'."""
    name = value.strip()
    if not name:
        return name
    if _CJK.search(name):
        # Chinese names keep only the surname's first character; separators such as the
        # middle dot of transcribed minority names stay so the length still reads right.
        return name[0] + "".join(ch if ch in _NAME_SEPARATORS else "*" for ch in name[1:])
    masked: list[str] = []
    start_of_word = True
    for ch in name:
        if ch in _NAME_SEPARATORS:
            masked.append(ch)
            start_of_word = True
        else:
            masked.append(ch if start_of_word else "*")
            start_of_word = False
    return "".join(masked)


# --- generators for tests and demo data ---------------------------------------------------


def make_resident_id(*, region: str = "140105", birth: date, sequence: int) -> str:
    """Build a valid resident ID for tests and demo data (sequence 0-999; odd = male)."""
    code = normalise_region_code(region)
    if code is None or code[:2] not in RESIDENT_ID_PROVINCES:
        raise ValueError(f"not a usable region code: {region!r}")
    if not 0 <= sequence <= 999:
        raise ValueError("sequence must be between 0 and 999")
    first17 = f"{full_region_code(code)}{birth:%Y%m%d}{sequence:03d}"
    number = first17 + resident_id_check_char(first17)
    problem = resident_id_problem(number)
    if problem is not None:
        raise ValueError(problem[0].format(**problem[1]))
    return number


def make_credit_code(*, region: str, org_seq: int, authority: str = "91") -> str:
    """Build a valid credit code for tests and demo data ('91...' is a registered enterprise)."""
    code = normalise_region_code(region)
    if code is None:
        raise ValueError(f"not a usable region code: {region!r}")
    if not 0 <= org_seq <= 99_999_999:
        raise ValueError("org_seq must be between 0 and 99999999")
    if len(authority) != 2 or authority[0] not in CREDIT_CODE_AUTHORITIES:
        raise ValueError(f"not a registration authority and category: {authority!r}")
    body = f"{org_seq:08d}"
    first17 = f"{authority}{full_region_code(code)}{body}{organisation_code_check_char(body)}"
    return first17 + credit_code_check_char(first17)


def random_resident_id(rng: random.Random, *, region: str = "140105") -> str:
    """Build a valid resident ID with a random adult birth date, for demo data."""
    birth = date.fromordinal(
        rng.randint(date(1965, 1, 1).toordinal(), date(2005, 12, 31).toordinal())
    )
    return make_resident_id(region=region, birth=birth, sequence=rng.randint(1, 999))
