"""match_evidence (the hot path of planning) agrees with compare on every pair."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from graph.resolution.features import Features
from graph.resolution.rules import load_rules
from graph.resolution.scoring import compare, match_evidence

RULES = load_rules()


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


FEATURES = st.builds(
    Features,
    key=st.just("k"),
    givenName=st.sampled_from(["", "ann", "anne", "a", "bob", "robert", "rob", "ana"]),
    familyName=st.sampled_from(["", "lee", "leigh", "le", "smith", "smyth"]),
    birthDate=_maybe(["1990-04-01", "1990-04-02"]),
    email=_maybe(["ann@x.org", "bob@x.org"]),
    phone=_maybe(["+447700900001", "+447700900002"]),
    loyaltyId=_maybe(["LY1", "LY2"]),
    address=st.sampled_from(["", "12 high st", "12 high st flat 2", "4 mill ln"]),
    postcode=_maybe(["LS14AP", "NR24AB"]),
)


@settings(max_examples=2000)
@given(FEATURES, FEATURES)
def test_match_evidence_is_the_evidence_of_a_matching_compare(a: Features, b: Features) -> None:
    verdict = compare(a, b, RULES)
    assert match_evidence(a, b, RULES) == (verdict.evidence if verdict.match else None)
