"""Identity resolution against a real Neo4j: link, create, merge, split, steward decisions,
placeholders, batch against real time, explanations, golden records and consents."""

from __future__ import annotations

import json
import random

import pytest

from graph import db
from graph.errors import Conflict, NotFound
from graph.ingest import ingest_record, ingest_rows
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.services.training import train_model
from graph.store import match_models, review, sources
from graph.store.sources import require_source, validate_source

SOURCES = {
    "crm": ("SERVICE", 50),
    "shop": ("COMMERCE", 10),
    "web": ("MARKETING", 20),
    "store": ("STORE", 90),
}
ACTOR = "resolution-test"


class Graph:
    """Registered sources, a resolver and helpers to ingest records and read people."""

    def __init__(self, driver, settings):
        self.driver, self.settings = driver, settings
        for sid, (kind, priority) in SOURCES.items():
            sources.register_source(driver, settings, validate_source(sid, kind, sid, priority))
        self.resolver = Resolver(driver, settings, actor=ACTOR)

    def ingest(self, key: str, *, resolve: bool = True, **fields) -> str:
        """Ingest ``source:id`` with canonical ``fields``; returns the outcome."""
        source, source_id = key.split(":", 1)
        hook = resolve_after_ingest(self.resolver) if resolve else None
        return ingest_record(
            self.driver, self.settings, source, {"sourceId": source_id, **fields}, after_batch=hook
        ).outcome

    def ingest_together(self, source: str, rows: list[dict]) -> None:
        """Ingest rows of one source in one batch, resolved together after it."""
        ingest_rows(
            self.driver,
            self.settings,
            require_source(self.driver, self.settings, source),
            "records",
            list(enumerate(rows, 1)),
            after_batch=resolve_after_ingest(self.resolver),
        )

    def consent(self, record_key: str, channel: str, status: str, at: str) -> None:
        source, source_id = record_key.split(":", 1)
        ingest_record(
            self.driver,
            self.settings,
            source,
            {
                "sourceId": source_id,
                "channel": channel,
                "purpose": "MARKETING",
                "status": status,
                "at": at,
            },
            file_type="consents",
        )

    def run(self, query: str, **params):
        records, _, _ = self.driver.execute_query(
            query, params, database_=self.settings.neo4j_database
        )
        return records

    def person_of(self, key: str) -> str | None:
        rows = self.run(
            "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $k}) RETURN p.id AS id", k=key
        )
        assert len(rows) <= 1, f"{key} is linked to {len(rows)} people"
        return rows[0]["id"] if rows else None

    def people(self) -> dict[str, frozenset[str]]:
        rows = self.run(
            "MATCH (p:Person) OPTIONAL MATCH (p)-[:HAS_RECORD]->(r) "
            "RETURN p.id AS id, collect(r.key) AS keys"
        )
        return {r["id"]: frozenset(r["keys"]) for r in rows}

    def partition(self) -> set[frozenset[str]]:
        return set(self.people().values())

    def person(self, person_id: str) -> dict:
        return dict(
            self.run("MATCH (p:Person {id: $id}) RETURN properties(p) AS p", id=person_id)[0]["p"]
        )

    def events(self, kind: str | None = None) -> list[dict]:
        rows = self.run(
            """
            MATCH (e:ResolutionEvent) WHERE $kind IS NULL OR e.kind = $kind
            RETURN e {.*, at: toString(e.at),
                      concerns: [(e)-[:CONCERNS]->(p:Person) | p.id],
                      about: [(e)-[:ABOUT]->(r:SourceRecord) | r.key]} AS e
            ORDER BY e.at, e.kind""",
            kind=kind,
        )
        return [dict(r["e"]) for r in rows]

    def links(self) -> dict[str, tuple]:
        rows = self.run(
            "MATCH (p:Person)-[h:HAS_RECORD]->(r:SourceRecord) "
            "RETURN r.key AS key, p.id AS id, toString(h.linkedAt) AS at, h.rule AS rule"
        )
        return {r["key"]: (r["id"], r["at"], r["rule"]) for r in rows}


@pytest.fixture
def graph(neo4j_driver, settings) -> Graph:
    return Graph(neo4j_driver, settings)


ANN = {
    "givenName": "Ann",
    "familyName": "Lee",
    "email": "ann.lee@example.org",
    "updatedAt": "2025-01-01T10:00:00Z",
}


# --- link, create, merge ----------------------------------------------------------------------


def test_records_link_create_and_merge_into_the_oldest_id_which_old_ids_still_find(graph):
    graph.ingest("crm:A", **ANN)
    p1 = graph.person_of("crm:A")
    graph.ingest("shop:B", givenName="ANN", familyName="LEE", email="Ann.Lee@Example.org")
    graph.ingest("web:C", givenName="Anne", familyName="Lee", phone="+447700900009")
    p2 = graph.person_of("web:C")

    assert p1 is not None and graph.person_of("shop:B") == p1
    assert p2 not in (None, p1)
    assert graph.links()["shop:B"][2] == "email"
    assert [e["concerns"] for e in graph.events("CREATED")] == [[p1], [p2]]

    graph.ingest(
        "store:D",
        givenName="Ann",
        familyName="Lee",
        email="ann.lee@example.org",
        phone="+44 7700 900009",
    )  # bridges A (email) and C (phone and name)

    assert graph.people() == {p1: {"crm:A", "shop:B", "web:C", "store:D"}}
    assert graph.resolver.person_id(p2) == p1
    assert graph.resolver.person_id(p1) == p1
    assert (
        graph.run(
            "MATCH (:PersonAlias {id: $old})-[:ALIAS_OF]->(p:Person) RETURN p.id AS id", old=p2
        )[0]["id"]
        == p1
    )
    [merged] = graph.events("MERGED")
    assert merged["absorbedIds"] == [p2]
    assert merged["actor"] == ACTOR and merged["at"]
    assert merged["concerns"] == [p1]
    assert "web:C" in merged["about"]
    assert f"merged {p2} into {p1}" in merged["explanation"]
    # the absorbed person's history now concerns the survivor
    assert [e["concerns"] for e in graph.events("CREATED")] == [[p1], [p1]]


CREATED_AT = [
    pytest.param("2025-01-01T10:00:00.18Z", "2025-01-01T10:00:01.183Z", id="a-second-apart"),
    pytest.param("2025-01-01T10:00:00.18Z", "2025-01-01T10:00:00.183Z", id="3-ms-apart"),
    pytest.param("2025-01-01T10:00:00Z", "2025-01-01T10:00:00.5Z", id="on-the-second"),
]


@pytest.mark.parametrize(("older", "younger"), CREATED_AT)
def test_the_person_created_first_survives_a_merge_even_within_one_second(graph, older, younger):
    graph.ingest("crm:A", **ANN)
    graph.ingest("web:C", givenName="Ann", familyName="Lee", phone="+447700900009")
    p1, p2 = graph.person_of("crm:A"), graph.person_of("web:C")
    graph.run("MATCH (p:Person {id: $id}) SET p.createdAt = datetime($at)", id=p1, at=older)
    graph.run("MATCH (p:Person {id: $id}) SET p.createdAt = datetime($at)", id=p2, at=younger)

    graph.ingest("store:D", **ANN, phone="+447700900009")

    assert graph.people() == {p1: {"crm:A", "web:C", "store:D"}}


@pytest.mark.parametrize(("older", "younger"), CREATED_AT)
def test_the_record_ingested_first_keeps_the_id_in_a_split_even_within_one_second(
    graph, older, younger
):
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:B", **ANN)
    person = graph.person_of("crm:A")
    for key, at in (("crm:A", older), ("shop:B", younger)):
        graph.run(
            "MATCH (r:SourceRecord {key: $key}) SET r.createdAt = datetime($at)", key=key, at=at
        )

    graph.resolver.split_record("shop:B")

    assert graph.person_of("crm:A") == person != graph.person_of("shop:B")


def test_an_unknown_id_is_not_found(graph):
    with pytest.raises(NotFound):
        graph.resolver.person_id("p-0000000000000000")


# --- steward split -----------------------------------------------------------------------------


def _three_records_of_ann(graph) -> str:
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:B", **{**ANN, "givenName": "Annie"})
    graph.ingest("web:C", **ANN)
    person = graph.person_of("crm:A")
    assert graph.people() == {person: {"crm:A", "shop:B", "web:C"}}
    return person


def test_a_split_record_moves_out_and_nothing_merges_it_back(graph):
    person = _three_records_of_ann(graph)

    result = graph.resolver.split_record(
        "shop:B", actor="steward@example.com", reason="different customer"
    )

    moved_to = graph.person_of("shop:B")
    assert graph.people() == {person: {"crm:A", "web:C"}, moved_to: {"shop:B"}}
    assert result.of("shop:B").decision == "moved" and result.split == 1
    cannot = graph.run(
        "MATCH (:SourceRecord {key: 'shop:B'})-[l:CANNOT_LINK]-(o) "
        "RETURN o.key AS key, l.actor AS actor, l.reason AS reason"
    )
    assert sorted(r["key"] for r in cannot) == ["crm:A", "web:C"]
    assert {(r["actor"], r["reason"]) for r in cannot} == {
        ("steward@example.com", "different customer")
    }
    assert graph.resolver.explain_pair("shop:B", "crm:A").steward["type"] == "CANNOT_LINK"
    [split] = graph.events("SPLIT")
    # the split concerns both people, so each one's audit trail shows it
    assert (split["splitFrom"], sorted(split["concerns"]), split["about"]) == (
        person,
        sorted([person, moved_to]),
        ["shop:B"],
    )

    assert graph.ingest("shop:B", **{**ANN, "givenName": "Annie"}) == "unchanged"
    assert graph.people() == {person: {"crm:A", "web:C"}, moved_to: {"shop:B"}}

    assert (
        graph.ingest("shop:B", **{**ANN, "givenName": "Annie", "updatedAt": "2025-03-01T10:00:00Z"})
        == "updated"
    )
    assert graph.people() == {person: {"crm:A", "web:C"}, moved_to: {"shop:B"}}

    graph.resolver.resolve_all(show_progress=False)
    assert graph.people() == {person: {"crm:A", "web:C"}, moved_to: {"shop:B"}}

    with pytest.raises(Conflict):
        graph.resolver.merge_people(person, moved_to)
    assert graph.people() == {person: {"crm:A", "web:C"}, moved_to: {"shop:B"}}


def test_splitting_the_oldest_record_leaves_it_the_id_and_moves_the_rest(graph):
    person = _three_records_of_ann(graph)

    graph.resolver.split_record("crm:A")

    rest = graph.person_of("shop:B")
    assert graph.people() == {person: {"crm:A"}, rest: {"shop:B", "web:C"}}


@pytest.mark.parametrize(
    ("key", "error"),
    [
        pytest.param("crm:nope", NotFound, id="unknown-record"),
        pytest.param("crm:A", Conflict, id="only-record-of-its-person"),
    ],
)
def test_a_split_that_cannot_be_done_raises(graph, key, error):
    graph.ingest("crm:A", **ANN)

    with pytest.raises(error):
        graph.resolver.split_record(key)


# --- steward merge -----------------------------------------------------------------------------


def test_a_steward_merge_persists_keeps_the_oldest_id_and_survives_resolve_all(graph):
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:B", givenName="Ann", familyName="Lee-Smith", email="ann@smith.example")
    p1, p2 = graph.person_of("crm:A"), graph.person_of("shop:B")
    assert p1 != p2

    result = graph.resolver.merge_people(
        p2, p1, actor="steward@example.com", reason="same customer, married name"
    )

    assert graph.people() == {p1: {"crm:A", "shop:B"}}
    assert result.merged == 1
    must = graph.run(
        "MATCH (:SourceRecord {key: 'crm:A'})-[l:MUST_LINK]-(:SourceRecord "
        "{key: 'shop:B'}) RETURN l.actor AS actor, l.reason AS reason"
    )
    assert [(r["actor"], r["reason"]) for r in must] == [
        ("steward@example.com", "same customer, married name")
    ]
    [merged] = graph.events("MERGED")
    assert merged["actor"] == "steward@example.com" and merged["absorbedIds"] == [p2]
    assert not graph.resolver.explain_pair("crm:A", "shop:B").verdict.match  # no rule links them

    graph.resolver.resolve_all(show_progress=False)

    assert graph.people() == {p1: {"crm:A", "shop:B"}}
    assert graph.resolver.person_id(p2) == p1
    with pytest.raises(Conflict):
        graph.resolver.merge_people(p1, p2)  # the alias names the same person now


def test_undoing_a_wrong_merge_gives_the_absorbed_person_its_own_id_back(graph):
    """A split of the records a merge took from a person restores that person's 360 ID (the
    alias goes), so a system that stored the absorbed ID finds its own person again."""
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:B", givenName="Julia", familyName="Kutera", email="julia@example.com")
    ann, julia = graph.person_of("crm:A"), graph.person_of("shop:B")
    created = graph.person(julia)["createdAt"]
    graph.resolver.merge_people(ann, julia)
    assert graph.people() == {ann: {"crm:A", "shop:B"}}
    assert graph.resolver.person_id(julia) == ann

    graph.resolver.split_record("shop:B")

    assert graph.people() == {ann: {"crm:A"}, julia: {"shop:B"}}  # the absorbed ID, back
    assert graph.resolver.person_id(julia) == julia  # no longer an alias of Ann
    assert graph.run("MATCH (a:PersonAlias {id: $id}) RETURN a", id=julia) == []
    assert graph.person(julia)["createdAt"] == created
    [split] = graph.events("SPLIT")
    assert split["personId"] == julia
    # and the ID is no one else's to take: a second record split off Ann gets a new one
    graph.ingest("web:C", **ANN)
    graph.resolver.split_record("web:C")
    assert graph.person_of("web:C") not in (ann, julia)


def test_a_split_of_a_record_never_merged_in_gets_a_new_id(graph):
    person = _three_records_of_ann(graph)

    graph.resolver.split_record("web:C")

    new = graph.person_of("web:C")
    assert new not in (person, None) and graph.person_of("crm:A") == person


def test_merging_a_person_with_itself_or_an_unknown_id_raises(graph):
    graph.ingest("crm:A", **ANN)
    person = graph.person_of("crm:A")

    with pytest.raises(Conflict):
        graph.resolver.merge_people(person, person)
    with pytest.raises(NotFound):
        graph.resolver.merge_people(person, "p-0000000000000000")
    assert graph.people() == {person: {"crm:A"}}


def test_a_steward_merge_of_people_with_different_birth_dates_keeps_all_their_records(graph):
    graph.ingest("crm:A1", **ANN, birthDate="1980-01-01")
    graph.ingest("shop:A2", **ANN, birthDate="1980-01-01")
    graph.ingest("web:B1", givenName="Ann", familyName="Lee", birthDate="1984-07-23")
    p1, p2 = graph.person_of("crm:A1"), graph.person_of("web:B1")
    assert p1 != p2 and graph.person_of("shop:A2") == p1

    graph.resolver.merge_people(p1, p2, actor="steward@example.com", reason="wrong date")

    assert graph.people() == {p1: {"crm:A1", "shop:A2", "web:B1"}}


@pytest.mark.parametrize("typo", ["1980-01-10", "1980-10-01", "1981-01-01"])
def test_a_typo_in_a_birth_date_no_longer_splits_a_person(graph, typo):
    # transposed digits, day and month swapped, one digit wrong: the match model weighs the
    # difference as a typo, where the old rules vetoed any different date
    graph.ingest("crm:A1", **ANN, birthDate="1980-01-01")
    graph.ingest("web:B1", givenName="Ann", familyName="Lee", birthDate=typo, postcode="SW1A 1AA")
    assert graph.person_of("web:B1") == graph.person_of("crm:A1")
    link = graph.resolver.explain_person(graph.person_of("crm:A1")).links
    assert {x.rule for x in link} >= {"match_model"}


# --- conflicts and placeholders ------------------------------------------------------------------


def test_the_same_email_with_different_birth_dates_stays_two_people(graph):
    graph.ingest("crm:A", **ANN, birthDate="1960-01-01")
    graph.ingest("shop:B", **ANN, birthDate="2001-09-09")

    assert graph.person_of("crm:A") != graph.person_of("shop:B")
    assert len(graph.people()) == 2
    explanation = graph.resolver.explain_pair("crm:A", "shop:B")
    assert not explanation.same_person
    assert explanation.verdict.conflict == "different birth dates"
    assert "different birth dates" in explanation.summary()


SHOP_EMAIL = "orders@shop-example.com"  # syntactically valid, typed by clerks for everyone


def _shop_customers(n: int) -> list[dict]:
    return [
        {
            "sourceId": f"S{i:02d}",
            "givenName": f"Customer{chr(65 + i)}",
            "familyName": f"Family{chr(65 + i)}",
            "email": SHOP_EMAIL,
        }
        for i in range(n)
    ]


def test_an_email_on_more_records_than_the_limit_links_nobody_while_a_real_one_links(graph):
    limit = graph.resolver.rules.limits.max_identifier_records
    rows = _shop_customers(limit + 5)
    rows += [
        {
            "sourceId": "J1",
            "givenName": "Jane",
            "familyName": "Doe",
            "email": "jane.doe@example.org",
        },
        {"sourceId": "J2", "givenName": "J.", "familyName": "Doe", "email": "Jane.Doe@example.org"},
    ]

    graph.ingest_together("shop", rows)

    people = graph.people()
    assert len(people) == limit + 5 + 1
    assert frozenset({"shop:J1", "shop:J2"}) in people.values()


def test_an_email_on_more_records_than_the_limit_links_nobody_when_they_arrive_one_by_one(graph):
    rows = _shop_customers(graph.resolver.rules.limits.max_identifier_records + 5)
    for row in rows:
        graph.ingest(f"shop:{row['sourceId']}", **{k: v for k, v in row.items() if k != "sourceId"})

    assert len(graph.people()) == len(rows)


def test_an_over_used_email_is_no_evidence_between_records_meeting_through_a_blocking_key(graph):
    rows = _shop_customers(graph.resolver.rules.limits.max_identifier_records + 5)
    rows[0].update(givenName="Alice", familyName="Smith", postcode="LS1 4AP")
    rows[1].update(givenName="Adam", familyName="Jones", postcode="LS1 4AP")

    graph.ingest_together("shop", rows)

    assert graph.person_of("shop:S00") != graph.person_of("shop:S01")


# --- updates --------------------------------------------------------------------------------------


def test_an_update_removing_the_only_evidence_moves_the_record_out(graph):
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:B", **{**ANN, "updatedAt": "2025-01-02T10:00:00Z"})
    person = graph.person_of("crm:A")
    assert graph.person_of("shop:B") == person

    graph.ingest(
        "shop:B",
        givenName="Zoe",
        familyName="Quinn",
        email="zoe.q@example.net",
        updatedAt="2025-02-01T10:00:00Z",
    )

    other = graph.person_of("shop:B")
    assert graph.people() == {person: {"crm:A"}, other: {"shop:B"}}
    moves = [
        e
        for e in graph.events()
        if e["kind"] in ("SPLIT", "LINKED") and "shop:B" in e["about"] and other in e["concerns"]
    ]
    assert moves, graph.events()
    assert graph.person(person)["givenName"] == "Ann"
    assert graph.person(other)["givenName"] == "Zoe"
    assert graph.person(person)["recordCount"] == 1


def test_only_the_touched_component_is_re_resolved(graph):
    graph.ingest("crm:A", **ANN, birthDate="1990-04-01")
    # a candidate of A's records (same birth date and initial) that no rule links to them
    graph.ingest(
        "web:X1",
        givenName="Alan",
        familyName="Lowe",
        birthDate="1990-04-01",
        email="alan.lowe@example.com",
    )
    graph.ingest("store:Y1", givenName="Victor", familyName="Lemaire", email="v@lemaire.example")
    before = graph.links()
    people_before = {pid: graph.person(pid)["updatedAt"] for pid in graph.people()}

    graph.ingest("shop:B", **ANN, birthDate="1990-04-01")

    after = graph.links()
    person = graph.person_of("crm:A")
    assert after["shop:B"][0] == person
    for key in ("crm:A", "web:X1", "store:Y1"):
        assert after[key] == before[key], key
    for pid in (graph.person_of("web:X1"), graph.person_of("store:Y1")):
        assert graph.person(pid)["updatedAt"] == people_before[pid]
    assert graph.person(person)["updatedAt"] != people_before[person]


# --- batch against real time ----------------------------------------------------------------

NOISY = [
    # Alice Morgan: case, typo in the surname with the same phone, swapped names
    (
        "crm:AM1",
        dict(
            givenName="Alice",
            familyName="Morgan",
            email="alice.morgan@example.com",
            phone="+447700900101",
            birthDate="1985-03-12",
        ),
    ),
    ("shop:AM2", dict(givenName="ALICE", familyName="MORGAN", email="ALICE.Morgan@Example.com")),
    ("web:AM3", dict(givenName="Alice", familyName="Morgen", phone="+44 7700 900101")),
    ("store:AM4", dict(givenName="Morgan", familyName="Alice", birthDate="1985-03-12")),
    # Robert Kowalski: nickname, initial, typo with the birth date
    (
        "crm:RK1",
        dict(
            givenName="Robert",
            familyName="Kowalski",
            email="rob.k@example.net",
            phone="+48600100200",
            birthDate="1979-11-02",
        ),
    ),
    ("shop:RK2", dict(givenName="Bob", familyName="Kowalski", phone="+48 600 100 200")),
    ("web:RK3", dict(givenName="Robert", familyName="Kowalsky", birthDate="1979-11-02")),
    ("store:RK4", dict(givenName="R.", familyName="Kowalski", phone="+48600100200")),
    # the Lopez household shares one phone
    (
        "crm:ML1",
        dict(
            givenName="Maria",
            familyName="Lopez",
            email="maria.lopez@example.es",
            phone="+34600000111",
            birthDate="1990-05-05",
        ),
    ),
    ("shop:ML2", dict(givenName="maría", familyName="lópez", email="Maria.Lopez@example.es")),
    (
        "crm:JL1",
        dict(
            givenName="Jose",
            familyName="Lopez",
            email="jose.lopez@example.es",
            phone="+34600000111",
            birthDate="1988-08-08",
        ),
    ),
    ("web:JL2", dict(givenName="José", familyName="López", birthDate="1988-08-08")),
    ("store:JL3", dict(givenName="Jose", familyName="Lopez", phone="+34 600 000 111")),
    # Katherine Olsen: loyalty id, nickname, typo with the address
    (
        "crm:KO1",
        dict(
            givenName="Katherine",
            familyName="Olsen",
            email="k.olsen@example.org",
            loyaltyId="LY-5001",
            addressLine1="5 Mill Lane",
            postcode="BS1 5TR",
        ),
    ),
    ("store:KO2", dict(givenName="Kate", familyName="Olsen", loyaltyId="ly-5001")),
    ("web:KO3", dict(givenName="katherine", familyName="olsen", email="K.Olsen@example.org")),
    (
        "shop:KO4",
        dict(givenName="Kathrine", familyName="Olsen", addressLine1="5 Mill Ln", postcode="bs15tr"),
    ),
    # William Turner: nickname with the phone, case with the email
    (
        "crm:WT1",
        dict(
            givenName="William",
            familyName="Turner",
            phone="+447700900555",
            email="bill.turner@example.co.uk",
        ),
    ),
    ("shop:WT2", dict(givenName="Bill", familyName="Turner", phone="+447700900555")),
    ("web:WT3", dict(givenName="bill", familyName="turner", email="BILL.TURNER@example.co.uk")),
    # two John Smiths told apart by birth date
    (
        "crm:JS1",
        dict(
            givenName="John",
            familyName="Smith",
            email="john.smith@example.com",
            birthDate="1970-01-01",
        ),
    ),
    (
        "shop:JS2",
        dict(
            givenName="John",
            familyName="Smith",
            email="jsmith95@example.com",
            birthDate="1995-06-15",
        ),
    ),
    ("web:JS3", dict(givenName="Jon", familyName="Smith", birthDate="1995-06-15")),
    # one Gmail mailbox
    (
        "crm:DA1",
        dict(givenName="Delphine", familyName="Arkwright", email="delphine.arkwright@gmail.com"),
    ),
    (
        "shop:DA2",
        dict(
            givenName="Delphine",
            familyName="Arkwright",
            email="DelphineArkwright+shop@googlemail.com",
        ),
    ),
    # a family email shared by parent and child (different birth dates)
    (
        "crm:FS1",
        dict(
            givenName="Sam", familyName="Patel", email="patels@example.org", birthDate="1960-01-01"
        ),
    ),
    (
        "shop:FS2",
        dict(
            givenName="Sam", familyName="Patel", email="patels@example.org", birthDate="2001-09-09"
        ),
    ),
    ("web:FS3", dict(givenName="Samuel", familyName="Patel", birthDate="2001-09-09")),
    # Yusuf Demir: two people until a steward says otherwise
    (
        "crm:YD1",
        dict(
            givenName="Yusuf",
            familyName="Demir",
            email="yusuf.demir@example.net",
            loyaltyId="LY-77120",
        ),
    ),
    ("web:YD2", dict(givenName="Yusuf", familyName="Demir", email="yusuf.demir@example.net")),
    ("store:YD3", dict(givenName="Yusuf", familyName="Demir", loyaltyId="LY-77120")),
    ("shop:YD4", dict(givenName="Y.", familyName="Demir", phone="+1 202 555 0188")),
    (
        "crm:YD5",
        dict(
            givenName="Yusuf",
            familyName="Demir",
            phone="(202) 555-0188",
            country="US",
            email="y.demir@example.org",
        ),
    ),
    # Priya Shah: address pair and email pair, nothing between them
    (
        "crm:PS1",
        dict(
            givenName="Priya", familyName="Shah", addressLine1="22 Baker Street", postcode="NW1 6XE"
        ),
    ),
    (
        "shop:PS2",
        dict(givenName="Priya", familyName="Shah", addressLine1="22 Baker St", postcode="nw1 6xe"),
    ),
    ("web:PS3", dict(givenName="priya", familyName="shah", email="priya.shah@example.com")),
    ("shop:PS4", dict(givenName="Priya", familyName="Shah", email="PRIYA.SHAH@EXAMPLE.COM")),
    # singles
    (
        "store:S1",
        dict(
            givenName="Hannah", familyName="Okafor", addressLine1="1 Oxford Rd", postcode="M1 1AA"
        ),
    ),
    ("web:S2", dict(givenName="Victor", familyName="Lemaire", email="v.lemaire@example.fr")),
    ("store:S3", dict(givenName="Emil", familyName="Brandt", birthDate="1975-07-07")),
]

EXPECTED_PEOPLE = {
    frozenset(group.split())
    for group in [
        "crm:AM1 shop:AM2 web:AM3 store:AM4",
        "crm:RK1 shop:RK2 web:RK3 store:RK4",
        "crm:ML1 shop:ML2",
        "crm:JL1 web:JL2 store:JL3",
        "crm:KO1 store:KO2 web:KO3 shop:KO4",
        "crm:WT1 shop:WT2 web:WT3",
        "crm:JS1",
        "shop:JS2 web:JS3",
        "crm:DA1 shop:DA2",
        "crm:FS1",
        "shop:FS2 web:FS3",
        "crm:YD1 web:YD2 store:YD3",
        "shop:YD4 crm:YD5",
        "crm:PS1 shop:PS2",
        "web:PS3 shop:PS4",
        "store:S1",
        "web:S2",
        "store:S3",
    ]
}


def test_batch_resolution_gives_the_same_people_as_real_time_resolution(
    graph, neo4j_driver, settings
):
    assert len(NOISY) == 40
    order = list(NOISY)
    random.Random(360).shuffle(order)
    for key, fields in order:
        graph.ingest(key, **fields)
    real_time = graph.partition()

    db.wipe_data(neo4j_driver, settings)
    graph = Graph(neo4j_driver, settings)
    for key, fields in NOISY:
        graph.ingest(key, resolve=False, **fields)
    assert graph.people() == {}
    report = graph.resolver.resolve_all(show_progress=False)

    assert graph.partition() == real_time
    assert real_time == EXPECTED_PEOPLE
    assert report.records == 40 and report.people == len(EXPECTED_PEOPLE)


def _state(graph) -> tuple:
    return graph.people(), graph.links(), len(graph.events())


def test_resolve_all_twice_in_a_row_changes_nothing(graph):
    for key, fields in NOISY:
        graph.ingest(key, resolve=False, **fields)
    graph.resolver.resolve_all(show_progress=False)
    first = _state(graph)
    updated = {pid: graph.person(pid)["updatedAt"] for pid in first[0]}

    report = graph.resolver.resolve_all(show_progress=False)

    assert _state(graph) == first
    assert {pid: graph.person(pid)["updatedAt"] for pid in first[0]} == updated
    assert (report.created, report.merged, report.split, report.relinked) == (0, 0, 0, 0)


def test_resolve_all_after_real_time_resolution_changes_nothing(graph):
    for key, fields in NOISY:
        graph.ingest(key, **fields)
    before = _state(graph)

    graph.resolver.resolve_all(show_progress=False)

    assert _state(graph) == before


# --- explanations -----------------------------------------------------------------------------


def test_explain_person_lists_every_record_with_its_rule_and_scores(graph):
    graph.ingest("crm:A", **ANN, phone="+447700900001")
    graph.ingest("shop:B", givenName="Ann", familyName="Lee", email="ANN.LEE@example.org")
    graph.ingest("web:C", givenName="Annie", familyName="Lee", phone="+447700900001")
    person = graph.person_of("crm:A")

    explanation = graph.resolver.explain_person(person)

    assert explanation.person_id == person
    links = {link.key: link for link in explanation.links}
    assert sorted(links) == ["crm:A", "shop:B", "web:C"]
    assert (links["shop:B"].rule, links["shop:B"].scores, links["shop:B"].matched) == (
        "email",
        {"email": 100.0},
        "crm:A",
    )
    assert links["web:C"].rule == "phone_name" and links["web:C"].matched == "crm:A"
    assert set(links["web:C"].scores) == {"phone", "familyName", "givenName"}
    assert links["crm:A"].rule == "first_record"
    assert all(link.actor == ACTOR and link.linked_at for link in explanation.links)
    assert all(link.source == key.split(":")[0] for key, link in links.items())


def test_explain_person_finds_a_person_by_an_absorbed_id(graph):
    graph.ingest("crm:A", **ANN)
    graph.ingest("web:C", givenName="Ann", familyName="Lee", phone="+447700900009")
    p1, p2 = graph.person_of("crm:A"), graph.person_of("web:C")
    graph.resolver.merge_people(p1, p2)

    explanation = graph.resolver.explain_person(p2)

    assert explanation.person_id == p1 and explanation.aliases == (p2,)
    assert {link.key for link in explanation.links} == {"crm:A", "web:C"}


def test_explain_pair_of_unrelated_records_says_no_rule_matches(graph):
    graph.ingest("crm:A", **ANN)
    graph.ingest("shop:Z", givenName="Zoe", familyName="Quinn", email="zoe@example.net")

    explanation = graph.resolver.explain_pair("crm:A", "shop:Z")

    assert not explanation.same_person and not explanation.verdict.match
    assert explanation.verdict.evidence is None
    assert len(explanation.verdict.outcomes) == len(graph.resolver.rules.rules)
    model = graph.resolver.model.model
    assert explanation.model is not None and explanation.model.weight < model.review
    assert explanation.model_version == model.version and explanation.link == model.link
    assert explanation.summary() == (
        "crm:A and shop:Z are different people; directly: no rule matches; match weight "
        f"{explanation.model.weight:+.2f} bits (link >= {model.link:g}) by model "
        f"{model.version}: no match"
    )
    levels = dict(zip(explanation.model.comparisons, explanation.model.levels, strict=True))
    assert levels["email"] == "else"
    with pytest.raises(NotFound):
        graph.resolver.explain_pair("crm:A", "shop:nope")


# --- golden record ----------------------------------------------------------------------------


def test_the_golden_record_follows_each_attributes_strategy_and_ignores_empty_values(graph):
    # linked by email and loyalty id; priorities: store 90 > crm 50 > web 20 > shop 10
    graph.ingest(
        "crm:K1",
        givenName="Katherine",
        familyName="Olsen",
        email="kath.olsen@example.org",
        loyaltyId="ly-5001",
        city="Leeds",
        updatedAt="2024-01-01T10:00:00Z",
    )
    graph.ingest(
        "shop:K2",
        givenName="Katherine",
        familyName="Olsen",
        email="kath.olsen@example.org",
        updatedAt="2024-06-01T10:00:00Z",
    )
    graph.ingest(
        "web:K3",
        givenName="Kate",
        familyName="Olsen",
        email="kate.o@example.net",
        loyaltyId="LY-5001",
        updatedAt="2025-01-01T10:00:00Z",
    )
    graph.ingest(
        "shop:K4",
        familyName="Olsen",
        loyaltyId="LY-5001",
        city="  ",
        updatedAt="2025-06-01T10:00:00Z",
    )  # newest, but no given name, email, city
    person = graph.person_of("crm:K1")
    assert graph.people() == {person: {"crm:K1", "shop:K2", "web:K3", "shop:K4"}}

    golden = graph.person(person)

    assert golden["givenName"] == "Katherine"  # most_frequent: 2 votes to 1, though older
    assert golden["email"] == "kate.o@example.net"  # most_recent with a value
    assert golden["loyaltyId"] == "ly-5001"  # default source_priority: crm (50) over web, shop
    assert golden["city"] == "Leeds"  # newer blanks never win
    assert golden["recordCount"] == 4
    assert golden["sources"] == ["crm", "shop", "web"]


def test_updating_a_record_refreshes_its_persons_golden_record(graph):
    graph.ingest("crm:A", **ANN, phone="+447700900001")
    person = graph.person_of("crm:A")
    assert graph.person(person)["phone"] == "+447700900001"

    graph.ingest("crm:A", **{**ANN, "updatedAt": "2025-02-01T10:00:00Z"}, phone="+447700900002")

    assert graph.person_of("crm:A") == person
    assert graph.person(person)["phone"] == "+447700900002"


# --- consents ---------------------------------------------------------------------------------


def _gave(graph) -> dict[str, set[str]]:
    rows = graph.run(
        "MATCH (p:Person)-[:GAVE]->(c:Consent) RETURN p.id AS id, collect(c.sourceKey) AS keys"
    )
    return {r["id"]: set(r["keys"]) for r in rows}


def test_a_consent_captured_before_resolution_follows_the_person_and_moves_with_a_split(graph):
    graph.consent("shop:B", "EMAIL", "GRANTED", "2024-12-01T10:00:00Z")  # before the record
    graph.ingest("crm:A", resolve=False, **ANN)
    graph.consent("crm:A", "SMS", "WITHDRAWN", "2024-12-02T10:00:00Z")
    assert _gave(graph) == {}

    graph.resolver.resolve(["crm:A"])
    person = graph.person_of("crm:A")
    assert _gave(graph) == {person: {"crm:A"}}

    graph.ingest("shop:B", **{**ANN, "updatedAt": "2025-01-02T10:00:00Z"})
    assert graph.person_of("shop:B") == person
    assert _gave(graph) == {person: {"crm:A", "shop:B"}}

    graph.resolver.split_record("shop:B")

    # shop:B's record was created first (by its consent), so it anchors the person and
    # crm:A is the part that moves: either way each consent goes with its record
    of_a, of_b = graph.person_of("crm:A"), graph.person_of("shop:B")
    assert of_a != of_b and person in (of_a, of_b)
    assert _gave(graph) == {of_a: {"crm:A"}, of_b: {"shop:B"}}
    assert graph.run("MATCH (c:Consent)<-[g:GAVE]-() RETURN count(g) AS n")[0]["n"] == 2


def test_after_a_split_no_link_is_explained_by_a_record_that_left(graph):
    person = _three_records_of_ann(graph)

    graph.resolver.split_record("web:C")

    explanation = graph.resolver.explain_person(person)
    assert "web:C" not in {link.matched for link in explanation.links}
    assert {link.key for link in explanation.links} == {"crm:A", "shop:B"}


def test_a_steward_merge_can_override_an_earlier_split(graph):
    person = _three_records_of_ann(graph)
    graph.resolver.split_record("web:C")
    other = graph.person_of("web:C")

    with pytest.raises(Conflict, match="override"):
        graph.resolver.merge_people(person, other)
    graph.resolver.merge_people(person, other, override=True)

    assert graph.person_of("web:C") == person
    graph.resolver.resolve_all(show_progress=False)
    assert graph.person_of("web:C") == person


def test_ingest_record_writes_and_resolves_one_record_in_one_transaction(graph):
    outcome, first = graph.resolver.ingest_record(
        "crm",
        {"sourceId": "T1", "givenName": "Ada", "familyName": "Byron", "email": "ada@example.org"},
    )
    assert (outcome.key, outcome.outcome, first.decision) == ("crm:T1", "created", "created")
    outcome, second = graph.resolver.ingest_record(
        "shop",
        {
            "sourceId": "T2",
            "givenName": "Ada",
            "familyName": "Lovelace",
            "email": "ADA@example.org ",
        },
    )
    assert (outcome.outcome, second.decision, second.rule) == ("created", "linked", "email")
    assert second.person_id == first.person_id == graph.person_of("shop:T2")
    # the same record again changes nothing and reports the decision stored for it (a client
    # retrying after an uncertain commit learns what happened the first time)
    outcome, again = graph.resolver.ingest_record(
        "shop",
        {
            "sourceId": "T2",
            "givenName": "Ada",
            "familyName": "Lovelace",
            "email": "ADA@example.org ",
        },
    )
    assert (outcome.outcome, again.decision, again.rule, again.person_id) == (
        "unchanged",
        "linked",
        "email",
        first.person_id,
    )


def test_ingest_record_without_a_key_or_source_writes_nothing(graph):
    from graph.errors import ValidationError

    with pytest.raises(ValidationError) as caught:
        graph.resolver.ingest_record("crm", {"sourceId": " ", "email": "not-an-email"})
    assert {e.field for e in caught.value.errors} == {"sourceId"}
    with pytest.raises(NotFound, match="nope"):
        graph.resolver.ingest_record("nope", {"sourceId": "T4"})
    assert graph.run("MATCH (r:SourceRecord) RETURN count(r) AS n")[0]["n"] == 0
    assert graph.run("MATCH (p:Person) RETURN count(p) AS n")[0]["n"] == 0


def test_a_record_with_bad_values_is_resolved_on_its_good_ones(graph):
    graph.ingest("crm:C1", givenName="Ann", familyName="Lee", email="ann@example.org")
    outcome, resolution = graph.resolver.ingest_record(
        "shop",
        {
            "sourceId": "S1",
            "givenName": "Ann",
            "email": "ANN@example.org",
            "birthDate": "31/31/1990",
            "phone": "not a phone",
        },
    )
    assert {w.field for w in outcome.warnings} == {"birthDate", "phone"}
    assert resolution.decision == "linked" and resolution.rule == "email"
    row = graph.run(
        "MATCH (r:SourceRecord {key: 'shop:S1'}) RETURN r.birthDate AS b, r.invalidFields AS i"
    )[0]
    assert row["b"] is None and "31/31/1990" in row["i"]


def test_a_wipe_forgets_cached_sources(graph):
    assert require_source(graph.driver, graph.settings, "crm").id == "crm"
    db.wipe_data(graph.driver, graph.settings)
    with pytest.raises(NotFound, match="crm"):
        require_source(graph.driver, graph.settings, "crm")


def test_a_consent_given_to_the_api_stays_with_the_person_through_links_and_merges(graph):
    from graph.store.consents import set_consent

    graph.ingest("crm:C1", givenName="Ann", familyName="Lee", email="ann@example.org")
    graph.ingest("shop:S1", givenName="Bo", familyName="Ray", email="bo@example.org")
    ann, bo = graph.person_of("crm:C1"), graph.person_of("shop:S1")
    for person, status in ((ann, "WITHDRAWN"), (bo, "GRANTED")):
        set_consent(
            graph.driver,
            graph.settings,
            person,
            "EMAIL",
            "MARKETING",
            status,
            actor="agent-1",
            at="2025-01-01T00:00:00Z" if person == ann else "2025-02-01T00:00:00Z",
        )

    def given(person: str) -> set[str]:
        return {
            r["status"]
            for r in graph.run(
                "MATCH (:Person {id: $p})-[:GAVE]->(c:Consent) RETURN c.status AS status", p=person
            )
        }

    graph.ingest("web:W1", givenName="Ann", familyName="Lee", email="ann@example.org")
    assert graph.person_of("web:W1") == ann and given(ann) == {"WITHDRAWN"}  # a link keeps it
    survivor = graph.resolver.merge_people(ann, bo).records[0].person_id
    assert given(survivor) == {"WITHDRAWN", "GRANTED"}  # a merge keeps both people's
    assert graph.run("MATCH (c:Consent) WHERE NOT (c)--() RETURN count(c) AS n")[0]["n"] == 0


def test_a_split_shows_in_the_audit_trail_of_the_person_split_from(graph):
    from graph.store import audit

    graph.ingest("crm:C1", givenName="Ann", familyName="Lee", email="ann@example.org")
    graph.ingest("shop:S1", givenName="Ann", familyName="Lee", email="ann@example.org")
    person = graph.person_of("crm:C1")
    graph.resolver.split_record("shop:S1")
    kinds = [
        e["kind"]
        for e in audit.resolution_events(graph.driver, graph.settings, person_id=person).events
    ]
    assert kinds[0] == "SPLIT"
    moved = graph.person_of("shop:S1")
    assert [
        e["kind"]
        for e in audit.resolution_events(graph.driver, graph.settings, person_id=moved).events
    ] == ["SPLIT"]


# --- the match model: review queue, stored versions ----------------------------------------------


def _father_and_son(graph):
    # one family phone and one name, birth dates 41 years apart: the model's evidence for and
    # against nearly cancel, so the pair waits for a steward instead of merging (a family
    # email is weaker evidence: namesakes share one more often than strangers do)
    graph.ingest(
        "crm:FS1",
        givenName="Sam",
        familyName="Patel",
        phone="+44 20 7946 0001",
        birthDate="1960-01-01",
    )
    graph.ingest(
        "shop:FS2",
        givenName="Sam",
        familyName="Patel",
        phone="+44 20 7946 0001",
        birthDate="2001-09-09",
    )


def test_a_pair_between_the_review_and_link_thresholds_waits_for_a_steward(graph):
    _father_and_son(graph)

    assert graph.person_of("crm:FS1") != graph.person_of("shop:FS2")
    page = review.possible_matches(graph.driver, graph.settings, first=10)
    assert [m.key for m in page.matches] == ["crm:FS1|shop:FS2"] and page.total == 1
    match = page.matches[0]
    model = graph.resolver.model.model
    assert model.review <= match.weight < model.link
    assert match.comparisons["birthDate"]["level"] == "else"
    assert match.comparisons["phone"]["level"] == "exact"
    assert match.model_version == model.version


def test_accepting_a_possible_match_makes_one_person_and_empties_the_queue(graph):
    _father_and_son(graph)

    graph.resolver.decide_possible_match("crm:FS1|shop:FS2", accept=True, actor="steward")

    assert graph.person_of("crm:FS1") == graph.person_of("shop:FS2")
    assert review.possible_matches(graph.driver, graph.settings, first=10).total == 0


def test_a_rejected_possible_match_stays_apart_after_resolve_all(graph):
    _father_and_son(graph)

    graph.resolver.decide_possible_match("crm:FS1|shop:FS2", accept=False, actor="steward")
    graph.resolver.resolve_all(show_progress=False)

    assert graph.person_of("crm:FS1") != graph.person_of("shop:FS2")
    assert review.possible_matches(graph.driver, graph.settings, first=10).total == 0


def test_an_unknown_possible_match_is_not_found(graph):
    with pytest.raises(NotFound, match="review queue"):
        graph.resolver.decide_possible_match("crm:X|shop:Y", accept=True)


def test_a_trained_model_is_stored_active_and_named_by_every_later_decision(graph):
    for n, (given, family) in enumerate([("Ann", "Lee"), ("Bob", "Stone"), ("Cy", "Ng")]):
        graph.ingest(f"crm:T{n}", givenName=given, familyName=family, birthDate=f"199{n}-02-03")
        graph.ingest(f"shop:T{n}", givenName=given, familyName=family, birthDate=f"199{n}-02-03")

    report = train_model(graph.driver, graph.settings, u_sample_pairs=500)

    stored = match_models.active_model(graph.driver, graph.settings)
    assert stored is not None and stored.version == report.version and stored.tf
    assert json.loads(stored.training)["records"] == 6
    graph.ingest("web:T9", givenName="Dee", familyName="Oak", birthDate="1970-01-01")
    versions = {e["modelVersion"] for e in graph.events() if "web:T9" in e["recordKeys"]}
    assert versions == {report.version}


def test_warm_up_plans_the_real_time_statements_and_writes_nothing(graph):
    graph.ingest("crm:1", **ANN)
    before = graph.run("MATCH (n) RETURN count(n) AS n, COUNT { ()-[]->() } AS r")[0]

    graph.resolver.warm_up()
    graph.resolver.warm_up()  # twice: still nothing

    after = graph.run("MATCH (n) RETURN count(n) AS n, COUNT { ()-[]->() } AS r")[0]
    assert (after["n"], after["r"]) == (before["n"], before["r"])
    assert graph.links()["crm:1"][2] == "first_record"


def test_rejecting_a_possible_match_drops_the_others_between_the_same_two_people(graph):
    """A fresh-user report: after rejecting y|x1 the queue still offered y|x2 (x2 in x1's
    person); accepting it undid the rejection and split x1's person."""
    graph.ingest("crm:X1", givenName="Ann", familyName="Lee", email="ann.lee@example.org")
    graph.ingest("shop:X2", givenName="Ann", familyName="Lee", email="ann.lee@example.org")
    graph.ingest("web:Y", givenName="Ann", familyName="Lee")
    queue = review.possible_matches(graph.driver, graph.settings, first=10)
    assert sorted(m.key for m in queue.matches) == ["crm:X1|web:Y", "shop:X2|web:Y"]

    graph.resolver.decide_possible_match("crm:X1|web:Y", accept=False, actor="steward")

    assert review.possible_matches(graph.driver, graph.settings, first=10).total == 0
    assert graph.person_of("crm:X1") == graph.person_of("shop:X2") != graph.person_of("web:Y")


def test_golden_names_are_in_the_persons_casing_whatever_case_a_source_wrote(graph):
    graph.ingest("crm:C1", givenName="JASON", familyName="MCDONALD", email="jason@example.com")
    graph.ingest("shop:S1", givenName="jason", familyName="mcdonald", email="jason@example.com")
    person = graph.person(graph.person_of("crm:C1"))
    assert (person["givenName"], person["familyName"]) == ("Jason", "McDonald")
    assert graph.person_of("shop:S1") == graph.person_of("crm:C1")
    raw = graph.run("MATCH (r:SourceRecord {key: 'crm:C1'}) RETURN r.raw AS raw")[0]["raw"]
    assert "JASON" in raw  # the row as received is kept

    graph.ingest("web:W1", givenName="Anneke", familyName="van der Berg", email="a@example.com")
    graph.ingest("store:T1", givenName="ANNEKE", familyName="VAN DER BERG", email="b@example.com")
    assert graph.person(graph.person_of("web:W1"))["familyName"] == "van der Berg"
    assert graph.person(graph.person_of("store:T1"))["familyName"] == "van der Berg"
