"""Certificate numbers: random (they reveal nothing about how many exist), easy to read aloud
(Crockford base 32: no I, L, O, U), with a check character that catches any single mistyped
character and any swap of two neighbours: a sum weighted by powers of 2 modulo the prime 37
(2 generates the group mod 37, so the 12 weights are distinct and non-zero), written with the
32 symbols plus five check-only ones."""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base 32
CHECK_ALPHABET = ALPHABET + "*~$=U"  # 37 symbols for the check character (mod 37)
PREFIX = "PH"
BODY_LENGTH = 12
_NORMALISE = str.maketrans({"I": "1", "L": "1", "O": "0"})


def check_character(body: str) -> str:
    """The mod-37 check character of a body of Crockford symbols."""
    total = 0
    for char in body:
        total = (total * 2 + ALPHABET.index(char)) % 37
    return CHECK_ALPHABET[(38 - total * 2 % 37) % 37]


def _valid_check(body: str, check: str) -> bool:
    return check_character(body) == check


def new_number() -> str:
    """A fresh random number such as PH-7K3Q9XW2MD4T-V (60 random bits)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{PREFIX}-{body}-{check_character(body)}"


def normalise(value: str) -> str:
    """A typed number in canonical form: upper case, I/L read as 1 and O as 0, hyphens placed."""
    raw = "".join(ch for ch in value.upper().strip() if ch not in " -")
    if raw.startswith(PREFIX):
        raw = raw[len(PREFIX):]
    body, check = raw[:-1].translate(_NORMALISE), raw[-1:]
    return f"{PREFIX}-{body}-{check}"


def is_well_formed(number: str) -> bool:
    """True when the number has the right shape and its check character matches."""
    parts = number.split("-")
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != BODY_LENGTH or len(parts[2]) != 1:
        return False
    body, check = parts[1], parts[2]
    return all(ch in ALPHABET for ch in body) and _valid_check(body, check)
