"""True people for the demo data: who each person really is, before any system mangles it.

A :class:`PersonFactory` draws people one at a time from a seeded ``random.Random`` and one
seeded Faker per locale, remembering only the previous person (so a household can share their
address). Phones are valid mobile numbers of the person's country per ``phonenumbers``. Emails
and phones are drawn at random but never handed out twice (a fixed-size Bloom filter remembers
them); loyalty ids are unique by construction.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from datetime import date

import phonenumbers
from anyascii import anyascii
from faker import Faker

from graph.demo import _clock

__all__ = ["LOCALES", "Address", "Locale", "PersonFactory", "TruePerson"]

HOUSEHOLD_RATE = 0.026  # joins the previous person's household: ~5% of people live with another
NAME_ALIKE_RATE = 0.02  # takes a very common name of their locale, shared with strangers
OLD_EMAIL_RATE = 0.30  # had an earlier email address
MOVED_RATE = 0.08  # has a previous address some system still holds
LOYALTY_RATE = 0.40
TWO_SURNAMES_RATE = 0.75  # Spanish people carrying both family names


@dataclass(frozen=True, slots=True)
class Locale:
    """One Faker locale with its country (ISO 3166 alpha-2/alpha-3, English name), currency,
    phone calling code and free-mail domains (repeated to weight them)."""

    code: str
    country: str
    alpha3: str
    country_name: str
    currency: str
    calling_code: int
    email_domains: tuple[str, ...]


LOCALES: tuple[Locale, ...] = (
    Locale(
        "en_GB",
        "GB",
        "GBR",
        "United Kingdom",
        "GBP",
        44,
        (
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "outlook.com",
            "hotmail.co.uk",
            "hotmail.co.uk",
            "yahoo.co.uk",
            "btinternet.com",
            "icloud.com",
        ),
    ),
    Locale(
        "en_US",
        "US",
        "USA",
        "United States",
        "USD",
        1,
        (
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "yahoo.com",
            "yahoo.com",
            "outlook.com",
            "hotmail.com",
            "icloud.com",
            "aol.com",
        ),
    ),
    Locale(
        "de_DE",
        "DE",
        "DEU",
        "Germany",
        "EUR",
        49,
        ("gmail.com", "web.de", "web.de", "gmx.de", "gmx.de", "t-online.de", "outlook.de"),
    ),
    Locale(
        "fr_FR",
        "FR",
        "FRA",
        "France",
        "EUR",
        33,
        (
            "gmail.com",
            "gmail.com",
            "orange.fr",
            "orange.fr",
            "free.fr",
            "laposte.net",
            "sfr.fr",
            "hotmail.fr",
        ),
    ),
    Locale(
        "es_ES",
        "ES",
        "ESP",
        "Spain",
        "EUR",
        34,
        (
            "gmail.com",
            "gmail.com",
            "gmail.com",
            "hotmail.es",
            "hotmail.es",
            "yahoo.es",
            "outlook.es",
            "telefonica.net",
        ),
    ),
    Locale(
        "pl_PL",
        "PL",
        "POL",
        "Poland",
        "PLN",
        48,
        ("gmail.com", "gmail.com", "wp.pl", "wp.pl", "onet.pl", "interia.pl", "o2.pl"),
    ),
)
_LOCALE_WEIGHTS = (0.25, 0.25, 0.15, 0.15, 0.10, 0.10)

# Mobile ranges per country: (leading digits, how many random digits follow).
_MOBILE_RANGES: dict[str, tuple[tuple[str, int], ...]] = {
    "GB": (("74", 8), ("75", 8), ("77", 8), ("78", 8), ("79", 8)),
    "DE": (
        ("151", 8),
        ("152", 8),
        ("157", 8),
        ("159", 8),
        ("160", 7),
        ("162", 7),
        ("170", 7),
        ("171", 7),
        ("172", 7),
        ("173", 7),
        ("174", 7),
        ("175", 7),
        ("176", 8),
        ("177", 7),
        ("178", 7),
        ("179", 7),
    ),
    "FR": (("6", 8), ("7", 8)),
    "ES": (("6", 8), ("7", 8)),
    "PL": (
        ("50", 7),
        ("51", 7),
        ("53", 7),
        ("57", 7),
        ("60", 7),
        ("66", 7),
        ("69", 7),
        ("72", 7),
        ("73", 7),
        ("78", 7),
        ("79", 7),
        ("88", 7),
    ),
}
_US_AREA_CODES = (
    "201",
    "202",
    "206",
    "212",
    "213",
    "215",
    "303",
    "305",
    "312",
    "404",
    "415",
    "503",
    "512",
    "602",
    "617",
    "702",
    "713",
    "718",
    "773",
    "818",
    "917",
    "919",
)

# A few very common names per locale: (given, family, gender). People drawn from these are
# different people with the same name, the classic false-match trap.
_COMMON_NAMES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "en_GB": (("James", "Smith", "M"), ("David", "Jones", "M"), ("Sarah", "Williams", "F")),
    "en_US": (("Michael", "Johnson", "M"), ("Jennifer", "Smith", "F"), ("Robert", "Brown", "M")),
    "de_DE": (("Thomas", "Müller", "M"), ("Anna", "Schmidt", "F"), ("Michael", "Schneider", "M")),
    "fr_FR": (("Marie", "Martin", "F"), ("Nicolas", "Bernard", "M"), ("Sophie", "Dubois", "F")),
    "es_ES": (("María", "García", "F"), ("José", "Fernández", "M"), ("Antonio", "López", "M")),
    "pl_PL": (("Anna", "Nowak", "F"), ("Piotr", "Kowalski", "M"), ("Katarzyna", "Wiśniewska", "F")),
}
# Email local parts: (cumulative share, template, largest random {n}); a taken one is redrawn.
_EMAIL_TEMPLATES: tuple[tuple[float, str, int], ...] = (
    (0.08, "{g}.{f}", 0),
    (0.33, "{g}.{f}{n}", 999),
    (0.48, "{g}{f}{yy}{n}", 99),
    (0.63, "{i}{f}{n}", 9999),
    (0.75, "{f}.{g}{n}", 999),
    (0.88, "{g}_{f}{n}", 9999),
    (1.0, "{g}{n}", 99999),
)
_LOYALTY_MULTIPLIER = 6_364_136_223  # coprime with 10**10, so index -> loyalty id is one-to-one


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address as Faker writes it for the locale."""

    street: str
    city: str
    postcode: str


@dataclass(frozen=True, slots=True)
class TruePerson:
    """Who a person really is. ``emails`` is oldest first (the last is current); ``phone`` a
    valid mobile number; ``old_address`` a previous address, or ``None``."""

    id: str
    locale: Locale
    gender: str
    given: str
    family: str
    birth_date: date
    emails: tuple[str, ...]
    phone: phonenumbers.PhoneNumber
    address: Address
    old_address: Address | None
    loyalty_id: str | None


class PersonFactory:
    """Draws :class:`TruePerson` values one at a time, deterministically for a seed."""

    def __init__(self, seed: int, rng: random.Random) -> None:
        self._rng = rng
        self._fakers: dict[str, Faker] = {}
        for locale in LOCALES:
            faker = Faker(locale.code)
            faker.seed_instance(f"{seed}/{locale.code}")
            self._fakers[locale.code] = faker
        self._loyalty_offset = rng.randrange(10**10)
        self._previous: TruePerson | None = None
        self._count = 0
        self._taken = _Taken()

    def next(self) -> TruePerson:
        """The next person: ids run ``P0000001``, ``P0000002`` ..."""
        self._count += 1
        rng = self._rng
        previous = self._previous
        if previous is not None and rng.random() < HOUSEHOLD_RATE:
            person = self._household_member(previous)
        else:
            person = self._stranger()
        self._previous = person
        return person

    def _stranger(self) -> TruePerson:
        rng = self._rng
        locale = rng.choices(LOCALES, _LOCALE_WEIGHTS)[0]
        faker = self._fakers[locale.code]
        if rng.random() < NAME_ALIKE_RATE:
            given, family, gender = rng.choice(_COMMON_NAMES[locale.code])
        else:
            gender = rng.choice("FM")
            given = _given_name(faker, gender)
            family = _family_name(faker, gender, locale, rng)
        old_address = _address(faker) if rng.random() < MOVED_RATE else None
        return self._person(
            locale, gender, given, family, _clock.birth_date(rng), _address(faker), old_address
        )

    def _household_member(self, previous: TruePerson) -> TruePerson:
        """Same family name and address as ``previous``; another given name and birth date."""
        rng = self._rng
        faker = self._fakers[previous.locale.code]
        gender = rng.choice("FM")
        given = _given_name(faker, gender)
        while given == previous.given:
            given = _given_name(faker, gender)
        born = previous.birth_date
        birth = born
        while birth == born:
            child_year = born.year + rng.randint(22, 38)
            if child_year <= 2007 and rng.random() < 0.4:
                birth = _clock.birth_date(
                    rng, near=born.replace(year=child_year, day=1), spread_years=1
                )
            else:
                birth = _clock.birth_date(rng, near=born, spread_years=6)
        return self._person(
            previous.locale,
            gender,
            given,
            previous.family,
            birth,
            previous.address,
            previous.old_address,
        )

    def _person(
        self,
        locale: Locale,
        gender: str,
        given: str,
        family: str,
        birth: date,
        address: Address,
        old_address: Address | None,
    ) -> TruePerson:
        rng = self._rng
        emails = [self._new_email(locale, given, family, birth)]
        if rng.random() < OLD_EMAIL_RATE:
            emails.insert(0, self._new_email(locale, given, family, birth))
        loyalty = None
        if rng.random() < LOYALTY_RATE:
            number = (self._count * _LOYALTY_MULTIPLIER + self._loyalty_offset) % 10**10
            loyalty = f"LC{number:010d}"
        return TruePerson(
            id=f"P{self._count:07d}",
            locale=locale,
            gender=gender,
            given=given,
            family=family,
            birth_date=birth,
            emails=tuple(emails),
            phone=self._new_mobile(locale),
            address=address,
            old_address=old_address,
            loyalty_id=loyalty,
        )

    def _new_email(self, locale: Locale, given: str, family: str, birth: date) -> str:
        """An address nobody has yet: a taken one is drawn again, as at a mail provider."""
        while True:
            email = _email(self._rng, locale, given, family, birth)
            if self._taken.claim(email):
                return email

    def _new_mobile(self, locale: Locale) -> phonenumbers.PhoneNumber:
        """A valid mobile number of the locale's country that nobody has yet."""
        while True:
            number = _mobile(self._rng, locale)
            if self._taken.claim(f"+{number.country_code}{number.national_number}"):
                return number


class _Taken:
    """Values already handed out, in fixed memory (a 16 MiB Bloom filter, 4 hashes).

    A value is never claimed twice. A new value is wrongly refused about twice in 10^5 claims
    at a million people (it is then simply drawn again), so memory stays flat whatever N is.
    """

    _BITS = 1 << 27

    def __init__(self) -> None:
        self._bits = bytearray(self._BITS // 8)

    def claim(self, value: str) -> bool:
        """Take ``value``; ``False`` (and nothing changes) when it may be taken already."""
        digest = hashlib.blake2b(value.encode("utf-8"), digest_size=16).digest()
        positions = [
            int.from_bytes(digest[i : i + 4], "little") % self._BITS for i in (0, 4, 8, 12)
        ]
        bits = self._bits
        if all(bits[p >> 3] >> (p & 7) & 1 for p in positions):
            return False
        for p in positions:
            bits[p >> 3] |= 1 << (p & 7)
        return True


def _given_name(faker: Faker, gender: str) -> str:
    return str(faker.first_name_female() if gender == "F" else faker.first_name_male())


def _family_name(faker: Faker, gender: str, locale: Locale, rng: random.Random) -> str:
    draw = faker.last_name_female if gender == "F" else faker.last_name_male
    family = str(draw())
    if locale.country == "ES" and rng.random() < TWO_SURNAMES_RATE:
        second = str(draw())
        if second != family:
            family = f"{family} {second}"
    return family


def _address(faker: Faker) -> Address:
    street = " ".join(str(faker.street_address()).split())
    return Address(street=street, city=str(faker.city()), postcode=str(faker.postcode()))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", anyascii(name).lower())


def _email(rng: random.Random, locale: Locale, given: str, family: str, birth: date) -> str:
    """A plausible free-mail address built from the name."""
    g = _slug(given)
    f = _slug(family.split(" ")[0] if rng.random() < 0.5 else family)
    roll = rng.random()
    template, high = next((t, h) for share, t, h in _EMAIL_TEMPLATES if roll < share)
    number = rng.randint(1, high) if high else 0
    local = template.format(g=g, f=f, i=g[:1], yy=f"{birth.year % 100:02d}", n=number)
    return f"{local}@{rng.choice(locale.email_domains)}"


def _mobile(rng: random.Random, locale: Locale) -> phonenumbers.PhoneNumber:
    """A random mobile number valid for the locale's country (drawn again until valid)."""
    while True:
        if locale.country == "US":
            exchange = rng.randint(200, 999)
            if exchange % 100 == 11:
                continue
            national = f"{rng.choice(_US_AREA_CODES)}{exchange}{rng.randrange(10_000):04d}"
        else:
            lead, digits = rng.choice(_MOBILE_RANGES[locale.country])
            national = f"{lead}{rng.randrange(10**digits):0{digits}d}"
        number = phonenumbers.PhoneNumber(
            country_code=locale.calling_code, national_number=int(national)
        )
        if phonenumbers.is_valid_number(number):
            return number
