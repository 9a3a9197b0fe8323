"""Email addresses: syntax per the RFCs (``email_validator``, no DNS), match keys with
provider rules (Gmail dots and +tags), placeholder addresses. Pure.
"""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from email_validator.syntax import validate_email_local_part

from graph.normalize.text import clean_text, fold
from graph.normalize.values import (
    Normalized,
    Verdict,
    empty_value,
    raw_text,
)

#: Local parts that are junk on any domain, compared with ".", "-" and "_" removed and any
#: "+tag" dropped (so no-reply, no_reply and no.reply all match "noreply").
PLACEHOLDER_EMAIL_LOCAL_PARTS = frozenset(
    {
        "noemail",
        "nomail",
        "noaddress",
        "noreply",
        "donotreply",
        "dontreply",
        "unknown",
        "nobody",
        "noone",
        "none",
        "null",
        "nil",
        "notprovided",
        "notgiven",
        "declined",
        "refused",
        "test",
        "dummy",
        "fake",
    }
)

#: Local parts that are junk only on a reserved domain or on a domain named after themselves
#: (email@email.com, a@a.com, x@example.com) but may be real elsewhere (a@smith.family).
GENERIC_EMAIL_LOCAL_PARTS = frozenset(
    {
        "a",
        "x",
        "xx",
        "xxx",
        "na",
        "email",
        "mail",
        "abc",
        "asdf",
        "foo",
        "user",
        "name",
        "sample",
        "info",
        "customer",
        "me",
    }
)

#: Reserved for documentation and testing by RFC 2606 / RFC 6761: whole domains, and TLDs.
RESERVED_EMAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org"})
_RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})

#: Gmail ignores dots in the local part and treats googlemail.com as gmail.com
#: (https://support.google.com/mail/answer/7436150).
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# What people type into an email field instead of an address.
_NO_EMAIL_PHRASES = frozenset(
    {"noemail", "no email", "no mail", "no e mail", "none given", "declined", "refused"}
)

__all__ = [
    "GENERIC_EMAIL_LOCAL_PARTS",
    "GMAIL_DOMAINS",
    "PLACEHOLDER_EMAIL_LOCAL_PARTS",
    "RESERVED_EMAIL_DOMAINS",
    "normalize_email",
]


_LOCAL_PART_SEPARATORS = str.maketrans("", "", ".-_")


def _local_base(local: str) -> str:
    base = local.split("+", 1)[0]
    return base or local


def _is_placeholder_email(address: str) -> bool:
    local, _, domain = address.lower().rpartition("@")
    squeezed = _local_base(local).translate(_LOCAL_PART_SEPARATORS)
    if squeezed in PLACEHOLDER_EMAIL_LOCAL_PARTS:
        return True
    reserved = domain in RESERVED_EMAIL_DOMAINS or domain.rsplit(".", 1)[-1] in _RESERVED_TLDS
    return squeezed in GENERIC_EMAIL_LOCAL_PARTS and (reserved or domain.split(".")[0] == squeezed)


def _email_key(local: str, domain: str) -> str:
    base = _local_base(local)
    if domain in GMAIL_DOMAINS:
        return f"{base.replace('.', '')}@gmail.com"
    return f"{base}@{domain}"


def normalize_email(raw: object) -> Normalized:
    """An email address: value = the address lower-cased, key = its mailbox match key.

    Syntax is checked by ``email_validator`` (no DNS; a display name ``Bob <bob@x.com>`` and a
    ``mailto:`` prefix are accepted and dropped). The key lower-cases the whole address and
    drops a ``+tag`` on every domain, since sub-addressing is near universal (Gmail, Outlook,
    Fastmail, Proton) and a tag never names another person. Dots are removed only for Gmail
    (googlemail.com -> gmail.com): elsewhere ``jon.pike`` and ``jonpike`` are different
    mailboxes. Junk addresses (see the ``*_EMAIL_*`` constants) are ``"placeholder"``; bad
    syntax is ``"invalid"`` with the validator's message as reason. Never raises.
    """
    text = clean_text(raw)
    if text is None:
        return empty_value(raw)
    value, key, status, reason = _email_verdict(text)
    return Normalized(raw_text(raw), value, key, status, reason)


# (value, key, status, reason) of a Normalized, without its raw text.
_PLACEHOLDER_EMAIL: Verdict = (None, None, "placeholder", "placeholder email")


@lru_cache(maxsize=65536)
def _email_verdict(text: str) -> Verdict:
    """:func:`normalize_email` of cleaned text, cached: one address arrives from several
    sources."""
    if text[:7].lower() == "mailto:":
        text = text[7:].strip()
    if "@" not in text and fold(text) in _NO_EMAIL_PHRASES:
        return _PLACEHOLDER_EMAIL
    if "@" in text and _is_placeholder_email(text):
        return _PLACEHOLDER_EMAIL
    try:
        local, domain = _checked_address(text)
    except EmailNotValidError as exc:
        return None, None, "invalid", str(exc)
    if _is_placeholder_email(f"{local}@{domain}"):
        return _PLACEHOLDER_EMAIL
    return f"{local}@{domain}", _email_key(local, domain), "ok", None


@lru_cache(maxsize=65536)
def _checked_domain(domain: str) -> str:
    """email_validator's verdict on a domain, cached: domains repeat across millions of
    addresses and their check is most of the validator's cost (~70 us an address)."""
    return validate_email(f"a@{domain}", check_deliverability=False).domain.lower()


def _checked_address(text: str) -> tuple[str, str]:
    """(local part, domain) lower-cased, as email_validator accepts them; raises
    ``EmailNotValidError``. A plain ``local@domain`` is checked in two library calls (the
    local part, then the cached domain); anything else (display names, quoting) whole."""
    local, at, domain = text.rpartition("@")
    if at and local and domain and not any(c in text for c in ' <>"(),;:\\[]'):
        validate_email_local_part(local, allow_smtputf8=True)
        return local.lower(), _checked_domain(domain.lower())
    checked = validate_email(text, check_deliverability=False, allow_display_name=True)
    return checked.local_part.lower(), checked.domain.lower()
