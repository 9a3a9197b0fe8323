"""The identity cases of tests/cases/, each run through ingest and real-time resolution."""

from __future__ import annotations

import json
import threading
import unicodedata
from pathlib import Path

from graph import db
from graph.ingest import ingest_record
from graph.services.resolver import Resolver, resolve_after_ingest
from graph.store import sources
from graph.store.sources import validate_source

CASES = Path(__file__).resolve().parents[1] / "cases"
KINDS = {
    "marketing": "MARKETING",
    "commerce": "COMMERCE",
    "service_desk": "SERVICE",
    "store_db": "STORE",
}


def load(name: str) -> dict:
    return json.loads(next(CASES.glob(f"{name}-*.json")).read_text(encoding="utf-8"))


class World:
    """Registered sources, a resolver, and helpers to ingest case records by ref."""

    def __init__(self, driver, settings, case: dict, resolver: Resolver | None = None):
        self.driver, self.settings, self.case = driver, settings, case
        for sid, kind in KINDS.items():
            sources.register_source(driver, settings, validate_source(sid, kind, sid, 10))
        self.resolver = resolver or Resolver(driver, settings)
        self.records = {r["ref"]: r for r in case["records"]}

    def key(self, ref: str) -> str:
        rec = self.records[ref]
        return f"{rec['source']}:{rec['sourceId']}"

    def ingest(self, *refs: str, resolver: Resolver | None = None):
        resolver = resolver or self.resolver
        for ref in refs:
            rec = {k: v for k, v in self.records[ref].items() if k not in ("ref", "source")}
            ingest_record(
                self.driver,
                self.settings,
                self.records[ref]["source"],
                rec,
                after_batch=resolve_after_ingest(resolver),
            )

    def run(self, query: str, **params):
        records, _, _ = self.driver.execute_query(
            query, params, database_=self.settings.neo4j_database
        )
        return records

    def person_of(self, ref: str) -> str | None:
        rows = self.run(
            "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $k}) RETURN p.id AS id",
            k=self.key(ref),
        )
        assert len(rows) <= 1, f"{ref} is linked to {len(rows)} people"
        return rows[0]["id"] if rows else None

    def person_count(self) -> int:
        return self.run("MATCH (p:Person) RETURN count(p) AS c")[0]["c"]

    def check(self) -> None:
        checks = self.case["expected"]["checks"]
        for group in checks.get("same_person", []):
            people = {self.person_of(ref) for ref in group}
            assert len(people) == 1 and None not in people, (
                f"{group} should be one person: {people}"
            )
        for a, b in checks.get("different_person", []):
            assert self.person_of(a) != self.person_of(b), f"{a} and {b} should differ"
        if "person_count" in checks:
            assert self.person_count() == checks["person_count"]


def test_01_accents_in_composed_decomposed_and_folded_spellings(neo4j_driver, settings):
    world = World(neo4j_driver, settings, load("01"))
    world.ingest("A", "B", "C", "D", "E", "F")
    world.check()
    for row in world.run("MATCH (p:Person) RETURN p.givenName AS g, p.familyName AS f"):
        for text in (row["g"], row["f"]):
            assert text == unicodedata.normalize("NFC", text)


def test_02_compound_surname_written_three_ways(neo4j_driver, settings):
    world = World(neo4j_driver, settings, load("02"))
    world.ingest("A", "B", "C", "D")
    world.check()
    stored = world.run(
        "MATCH (r:SourceRecord {key: $k}) RETURN r.familyName AS f", k=world.key("A")
    )
    assert stored[0]["f"] == "Salvatierra-Ruiz"
    golden = world.run(
        "MATCH (p:Person)-[:HAS_RECORD]->(:SourceRecord {key: $k}) RETURN p.familyName AS f",
        k=world.key("A"),
    )
    assert golden[0]["f"] in load("02")["expected"]["checks"]["golden_familyName_one_of"]


def test_03_swapped_given_and_family_name_need_corroboration(neo4j_driver, settings):
    world = World(neo4j_driver, settings, load("03"))
    world.ingest("A", "B", "C")
    world.check()
    explanation = world.resolver.explain_pair(world.key("A"), world.key("B"))
    assert explanation.same_person and explanation.verdict.match
    assert explanation.verdict.evidence.rule == "name_birth_date"


def test_05_blank_values_are_not_evidence(neo4j_driver, settings):
    world = World(neo4j_driver, settings, load("05"))
    world.ingest("A", "B", "C", "D", "E")
    world.check()
    values = [r["v"] for r in world.run("MATCH (i:Identifier) RETURN i.value AS v")]
    for blank in load("05")["expected"]["checks"]["no_identifier_with_value"]:
        assert blank not in values


def test_06_placeholder_identifiers_do_not_glue_customers(neo4j_driver, settings):
    case = load("06")
    world = World(neo4j_driver, settings, case)
    world.ingest(*[r["ref"] for r in case["records"]])
    world.check()
    values = {r["v"] for r in world.run("MATCH (i:Identifier) RETURN i.value AS v")}
    junk = {v.lower() for v in case["expected"]["checks"]["values_not_used_as_identifiers"]}
    assert not values & (junk | {"+10000000000", "+11111111111"})
    flags = world.run(
        "MATCH (r:SourceRecord {key: $k}) RETURN r.qualityFlags AS f", k=world.key("A")
    )[0]["f"]
    assert any("email: placeholder" in f for f in flags) and any(
        "phone: placeholder" in f for f in flags
    )


def test_08_one_gmail_mailbox_in_several_spellings(neo4j_driver, settings):
    world = World(neo4j_driver, settings, load("08"))
    world.ingest("A", "B", "C", "D", "E")
    world.check()
    for ref, key in load("08")["expected"]["checks"]["email_match_key"].items():
        ids = world.run(
            "MATCH (:SourceRecord {key: $k})-[:HAS_IDENTIFIER]->(i:Identifier {type: 'EMAIL'}) RETURN i.value AS v",
            k=world.key(ref),
        )
        assert [r["v"] for r in ids] == [key]
    raw = world.run("MATCH (r:SourceRecord {key: $k}) RETURN r.raw AS raw", k=world.key("A"))[0][
        "raw"
    ]
    assert json.loads(raw)["email"] == "Delphine.Arkwright+offers@gmail.com"


def test_10_stable_360_id_through_reruns_retuning_and_merges(neo4j_driver, settings):
    from dataclasses import replace

    world = World(neo4j_driver, settings, load("10"))
    world.ingest("A", "B")
    p1 = world.person_of("A")
    world.ingest("C")
    assert world.person_of("A") == p1 == world.person_of("C")
    world.resolver.resolve_all(show_progress=False)
    assert world.person_of("A") == p1
    rules = world.resolver.rules
    retuned_rule = replace(
        rules.rules[2],
        comparisons=tuple(
            replace(c, threshold=c.threshold - 1) if c.threshold < 100 else c
            for c in rules.rules[2].comparisons
        ),
    )
    retuned = replace(
        rules, rules=(rules.rules[:2] + (retuned_rule,) + rules.rules[3:]), version="retuned"
    )
    Resolver(neo4j_driver, settings, retuned).resolve_all(show_progress=False)
    assert world.person_of("A") == p1
    world.ingest("D", "E")
    p2 = world.person_of("D")
    assert world.person_of("E") == p2
    if p2 != p1:
        world.resolver.merge_people(p1, p2, actor="steward@example.com", reason="same customer")
    assert world.person_of("A") == p1 == world.person_of("D")
    world.resolver.resolve_all(show_progress=False)
    assert world.person_of("A") == p1
    world.check()
    if p2 != p1:
        assert world.resolver.person_id(p2) == p1


def test_21_merge_with_sparse_newer_record_keeps_known_attributes(neo4j_driver, settings):
    case = load("21")
    golden_of_a = case["expected"]["checks"]["golden_of_A"]
    for strategy in ("most_recent", "source_priority", "most_frequent"):
        db.wipe_data(neo4j_driver, settings)
        import tomllib

        from graph.resolution.rules import DEFAULT_RULES, parse_rules

        data = tomllib.loads(DEFAULT_RULES.read_text())
        data["reconciliation"] = {"default": strategy, "attributes": {}}
        world = World(
            neo4j_driver, settings, case, Resolver(neo4j_driver, settings, parse_rules(data))
        )
        world.ingest("A", "B")
        world.check()
        row = world.run("MATCH (p:Person) RETURN properties(p) AS p")[0]["p"]
        for attribute, value in golden_of_a.items():
            assert str(row[attribute]) == value, (strategy, attribute)
        attributes = json.loads(row["attributes"])
        assert attributes["preferences"] == {"language": "cy", "store": "Bath"}


def test_14_concurrent_ingests_sharing_one_identifier_converge(neo4j_driver, settings):
    case = load("14")
    x_refs = [f"X{n:02d}" for n in range(1, 13)]
    for run in range(case["expected"]["checks"]["runs"]):
        db.wipe_data(neo4j_driver, settings)
        world = World(neo4j_driver, settings, case)
        failures: list[BaseException] = []

        def parallel(refs, world=world, failures=failures):
            barrier = threading.Barrier(len(refs))

            def work(ref):
                # each worker has its own driver, like a separate process
                driver = db.connect(settings)
                try:
                    barrier.wait()
                    world.ingest(ref, resolver=Resolver(driver, settings))
                except BaseException as exc:  # collected and asserted below
                    failures.append(exc)
                finally:
                    driver.close()

            threads = [threading.Thread(target=work, args=(r,)) for r in refs]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

        parallel(x_refs)
        world.ingest("K")
        x_person, k_person = world.person_of("X01"), world.person_of("K")
        parallel(["R1", "R2"])
        assert failures == [], failures
        per_run = case["expected"]["checks"]["per_run"]
        assert world.person_count() == per_run["person_count"]
        counts = world.run("""
            MATCH (i:Identifier) WITH i.type AS t, count(*) AS n RETURN t, n ORDER BY t""")
        assert {r["t"]: r["n"] for r in counts} == {
            "EMAIL": per_run["email_identifier_nodes"],
            "PHONE": per_run["phone_identifier_nodes"],
        }
        assert (
            world.run("MATCH (r:SourceRecord) RETURN count(r) AS c")[0]["c"]
            == per_run["source_records"]
        )
        dupes = world.run("""
            MATCH (a)-[r]->(b) WITH a, b, type(r) AS t, count(*) AS n WHERE n > 1 RETURN count(*) AS c""")
        assert dupes[0]["c"] == per_run["duplicate_relationships"]
        merges = world.run(
            """
            MATCH (e:ResolutionEvent {kind: 'MERGED'})
            WHERE any(id IN e.absorbedIds WHERE id IN [$x, $k]) RETURN count(e) AS c""",
            x=x_person,
            k=k_person,
        )
        assert merges[0]["c"] == per_run["merge_events_joining_X_and_K"], run
