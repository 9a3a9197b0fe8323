"""Noisy copies of a true person, as one source system holds them.

:func:`noisy_identity` applies, per appearance: a nickname (5%) or a one-edit typo (5%) in a
name, given and family swapped (1%), a Spanish second surname dropped (30% of those who have
one), accents folded (rate per system, ~10% overall), case changed (per system), fields left
empty (per system), a day/month swap in the birth date (1%), an old email or old address when
the caller asks, a capitalised email (5%), the system's own phone format, street words
abbreviated (10%) and, for systems that have them, placeholder contact data.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

import phonenumbers
from anyascii import anyascii

from graph.demo._people import Address, TruePerson

__all__ = [
    "PLACEHOLDER_EMAILS",
    "PLACEHOLDER_PHONE",
    "Identity",
    "NoiseProfile",
    "fold_accents",
    "format_phone",
    "noisy_identity",
    "typo",
]

NICKNAME_RATE = 0.05
TYPO_RATE = 0.05
SWAP_RATE = 0.01
SECOND_SURNAME_DROPPED = 0.30
BIRTH_SWAP_RATE = 0.01
EMAIL_CASE_RATE = 0.05
ABBREVIATION_RATE = 0.10
PART_MISSING_RATE = 0.05  # one part of an otherwise present address left empty

PLACEHOLDER_PHONE = "0000000000"
PLACEHOLDER_EMAILS = ("noemail@example.com", "none@none.com")

_NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "James": ("Jim", "Jimmy"),
    "John": ("Jack", "Johnny"),
    "Michael": ("Mike", "Mick"),
    "Richard": ("Rick", "Rich", "Dick"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Matthew": ("Matt",),
    "Anthony": ("Tony",),
    "Joseph": ("Joe", "Joey"),
    "Charles": ("Charlie", "Chuck"),
    "David": ("Dave",),
    "Edward": ("Ed", "Ted", "Eddie"),
    "Jennifer": ("Jen", "Jenny"),
    "Katherine": ("Kate", "Kathy", "Katie"),
    "Catherine": ("Cathy", "Kate"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Patricia": ("Pat", "Trish"),
    "Rebecca": ("Becky",),
    "Samantha": ("Sam",),
    "Susan": ("Sue",),
    "Victoria": ("Vicky", "Tori"),
    "Alexander": ("Alex",),
    "Alexandra": ("Alex", "Sandra"),
    "Andrew": ("Andy", "Drew"),
    "Benjamin": ("Ben",),
    "Jonathan": ("Jon",),
    "Nicholas": ("Nick",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Timothy": ("Tim",),
    "Deborah": ("Debbie", "Deb"),
    "Jessica": ("Jess",),
    "Kimberly": ("Kim",),
    "Gregory": ("Greg",),
    "Peter": ("Pete",),
    "Joshua": ("Josh",),
    "Zachary": ("Zach",),
    "Abigail": ("Abby",),
    "Frederick": ("Fred",),
    "Harold": ("Harry",),
    "Henry": ("Harry", "Hank"),
    "Lawrence": ("Larry",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Kenneth": ("Ken", "Kenny"),
    "Raymond": ("Ray",),
    "Douglas": ("Doug",),
    "Philip": ("Phil",),
    "Samuel": ("Sam",),
    "Nathan": ("Nate",),
    "Eleanor": ("Ellie",),
    "Pamela": ("Pam",),
    "Sandra": ("Sandy",),
    "Cynthia": ("Cindy",),
    "Judith": ("Judy",),
    "Jeffrey": ("Jeff",),
    "Barbara": ("Barb", "Basia"),
    "Johannes": ("Hans",),
    "Maximilian": ("Max",),
    "Friedrich": ("Fritz",),
    "Stefanie": ("Steffi",),
    "Franziska": ("Franzi",),
    "Elisabeth": ("Lisa", "Elli"),
    "Katharina": ("Kathi",),
    "Frédéric": ("Fred",),
    "Nicolas": ("Nico",),
    "Alexandre": ("Alex",),
    "Christophe": ("Chris",),
    "Isabelle": ("Isa",),
    "José": ("Pepe",),
    "Francisco": ("Paco", "Curro"),
    "Manuel": ("Manolo",),
    "Dolores": ("Lola",),
    "Ignacio": ("Nacho",),
    "Enrique": ("Quique",),
    "Rosario": ("Charo",),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia",),
    "Aleksandra": ("Ola",),
    "Agnieszka": ("Aga",),
    "Magdalena": ("Magda",),
    "Tomasz": ("Tomek",),
    "Wojciech": ("Wojtek",),
    "Krzysztof": ("Krzysiek",),
    "Piotr": ("Piotrek",),
    "Stanisław": ("Staszek",),
    "Joanna": ("Asia",),
    "Zofia": ("Zosia",),
    "Anna": ("Ania",),
}
_KEYBOARD_NEIGHBOURS = {
    "a": "qsz",
    "b": "vgn",
    "c": "xdv",
    "d": "sfe",
    "e": "wrd",
    "f": "dgr",
    "g": "fht",
    "h": "gjy",
    "i": "uok",
    "j": "hku",
    "k": "jli",
    "l": "ko",
    "m": "nj",
    "n": "bmh",
    "o": "ipl",
    "p": "ol",
    "q": "wa",
    "r": "etf",
    "s": "adw",
    "t": "ryg",
    "u": "yij",
    "v": "cbf",
    "w": "qes",
    "x": "zcs",
    "y": "tuh",
    "z": "xa",
}
_GERMAN_FOLDS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)
_ABBREVIATIONS = (
    (re.compile(r"\bStreet\b"), "St"),
    (re.compile(r"\bRoad\b"), "Rd"),
    (re.compile(r"\bAvenue\b"), "Ave"),
    (re.compile(r"straße\b"), "str."),
    (re.compile(r"\bStraße\b"), "Str."),
    (re.compile(r"\bavenue\b"), "av."),
    (re.compile(r"\bCalle\b"), "C/"),
    (re.compile(r"\bulica\b"), "ul."),
)


@dataclass(frozen=True, slots=True)
class NoiseProfile:
    """How one system mangles people. Rates are probabilities per record; ``phone_formats``
    pairs a style (``E164``, ``INTERNATIONAL``, ``NATIONAL``, ``COMPACT`` national digits,
    ``DIGITS`` country code and number without ``+``) with its weight."""

    missing_email: float
    missing_phone: float
    missing_birth: float
    missing_address: float
    missing_country: float
    upper: float
    lower: float
    fold_accents: float
    phone_formats: tuple[tuple[str, float], ...]
    placeholders: float = 0.0


@dataclass(frozen=True, slots=True)
class Identity:
    """What one record says about a person; empty strings for fields the system lacks.

    ``birth_date`` is ``YYYY-MM-DD``; ``country`` ISO 3166 alpha-2.
    """

    given: str
    family: str
    birth_date: str
    email: str
    phone: str
    street: str
    city: str
    postcode: str
    country: str


def noisy_identity(
    person: TruePerson,
    profile: NoiseProfile,
    rng: random.Random,
    *,
    old_email: bool,
    old_address: bool,
) -> Identity:
    """One system's copy of ``person``; ``old_email``/``old_address`` pick the earlier values
    when the person has them."""
    given, family = _names(person, profile, rng)
    email = _email(person, profile, rng, old_email)
    phone = "" if rng.random() < profile.missing_phone else _phone(person, profile, rng)
    if rng.random() < profile.placeholders:
        roll = rng.random()
        if roll < 0.7:
            phone = PLACEHOLDER_PHONE
        if roll > 0.4:
            email = rng.choice(PLACEHOLDER_EMAILS)
    address = person.old_address if old_address and person.old_address else person.address
    street, city, postcode = _address(address, profile, rng)
    return Identity(
        given=given,
        family=family,
        birth_date=_birth(person, profile, rng),
        email=email,
        phone=phone,
        street=street,
        city=city,
        postcode=postcode,
        country="" if rng.random() < profile.missing_country else person.locale.country,
    )


def typo(text: str, rng: random.Random) -> str:
    """``text`` with one edit (neighbouring key, dropped, doubled or swapped letter) after
    its first letter; unchanged when shorter than 3 letters."""
    if len(text) < 3:
        return text
    at = rng.randrange(1, len(text) - 1)
    letter = text[at]
    kind = rng.randrange(4)
    if kind == 0 and letter.lower() in _KEYBOARD_NEIGHBOURS:
        return text[:at] + rng.choice(_KEYBOARD_NEIGHBOURS[letter.lower()]) + text[at + 1 :]
    if kind == 1:
        return text[:at] + text[at + 1 :]
    if kind == 2:
        return text[:at] + letter + text[at:]
    swapped = text[:at] + text[at + 1] + letter + text[at + 2 :]
    return swapped if swapped != text else text[:at] + text[at + 1 :]


def fold_accents(text: str, german: bool) -> str:
    """``text`` in ASCII: ``Müller`` -> ``Mueller`` when ``german`` else ``Muller``."""
    return anyascii(text.translate(_GERMAN_FOLDS) if german else text)


def _names(person: TruePerson, profile: NoiseProfile, rng: random.Random) -> tuple[str, str]:
    given, family = person.given, person.family
    if " " in family and rng.random() < SECOND_SURNAME_DROPPED:
        family = family.split(" ")[0]
    roll = rng.random()
    if roll < NICKNAME_RATE and given in _NICKNAMES:
        given = rng.choice(_NICKNAMES[given])
    elif NICKNAME_RATE <= roll < NICKNAME_RATE + TYPO_RATE:
        if rng.random() < 0.6:
            given = typo(given, rng)
        else:
            family = typo(family, rng)
    if rng.random() < SWAP_RATE:
        given, family = family, given
    if not (given + family).isascii() and rng.random() < profile.fold_accents:
        german = person.locale.country == "DE" and rng.random() < 0.5
        given, family = fold_accents(given, german), fold_accents(family, german)
    roll = rng.random()
    if roll < profile.upper:
        return given.upper(), family.upper()
    if roll < profile.upper + profile.lower:
        return given.lower(), family.lower()
    return given, family


def _birth(person: TruePerson, profile: NoiseProfile, rng: random.Random) -> str:
    if rng.random() < profile.missing_birth:
        return ""
    born = person.birth_date
    if born.day <= 12 and born.day != born.month and rng.random() < BIRTH_SWAP_RATE:
        born = born.replace(month=born.day, day=born.month)
    return born.isoformat()


def _email(person: TruePerson, profile: NoiseProfile, rng: random.Random, old: bool) -> str:
    if rng.random() < profile.missing_email:
        return ""
    email = person.emails[0] if old else person.emails[-1]
    if rng.random() < EMAIL_CASE_RATE:
        local, domain = email.split("@")
        email = f"{local.title()}@{domain.capitalize()}"
    return email


def _phone(person: TruePerson, profile: NoiseProfile, rng: random.Random) -> str:
    styles = [style for style, _ in profile.phone_formats]
    weights = [weight for _, weight in profile.phone_formats]
    return format_phone(person.phone, rng.choices(styles, weights)[0])


def format_phone(number: phonenumbers.PhoneNumber, style: str) -> str:
    """``number`` written in ``style`` (see :class:`NoiseProfile`); raises ``ValueError`` for
    an unknown style."""
    fmt = phonenumbers.PhoneNumberFormat
    if style == "E164":
        return phonenumbers.format_number(number, fmt.E164)
    if style == "DIGITS":
        return phonenumbers.format_number(number, fmt.E164)[1:]
    if style == "INTERNATIONAL":
        return phonenumbers.format_number(number, fmt.INTERNATIONAL)
    if style == "NATIONAL":
        return phonenumbers.format_number(number, fmt.NATIONAL)
    if style == "COMPACT":
        return re.sub(r"\D", "", phonenumbers.format_number(number, fmt.NATIONAL))
    raise ValueError(f"unknown phone style {style!r}")


def _address(address: Address, profile: NoiseProfile, rng: random.Random) -> tuple[str, str, str]:
    if rng.random() < profile.missing_address:
        return "", "", ""
    street, city, postcode = address.street, address.city, address.postcode
    if rng.random() < ABBREVIATION_RATE:
        for pattern, short in _ABBREVIATIONS:
            street = pattern.sub(short, street)
    if rng.random() < profile.upper:
        street, city = street.upper(), city.upper()
    part = rng.randrange(3) if rng.random() < PART_MISSING_RATE else -1
    return (
        "" if part == 0 else street,
        "" if part == 1 else city,
        "" if part == 2 else postcode,
    )
