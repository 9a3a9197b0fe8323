"""docker-compose.yml cannot run on a machine without a Docker engine: check it by hand here."""

from __future__ import annotations

import yaml

from graph.settings import PROJECT_ROOT


def _compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_neo4j_service_is_pinned_with_volume_healthcheck_and_env_file_auth():
    neo4j = _compose()["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert any(str(v).endswith(":/data") for v in neo4j["volumes"])
    assert "test" in neo4j["healthcheck"]
    assert neo4j["env_file"] == [".env"]
    assert "NEO4J_AUTH" in str(neo4j["environment"])


def test_api_is_built_from_dockerfile_and_waits_for_healthy_neo4j():
    compose = _compose()
    api = compose["services"]["api"]
    assert (PROJECT_ROOT / api["build"]["dockerfile"]).exists()
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "NEO4J_URI" in str(api["environment"])
    assert set(compose["volumes"]) >= {
        v.split(":")[0] for v in compose["services"]["neo4j"]["volumes"]
    }


def test_dockerfile_runs_migrations_before_serving():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    cmd = [line for line in dockerfile.splitlines() if line.startswith("CMD")][-1]
    assert cmd.index("c360 migrate") < cmd.index("c360 serve")


def test_neo4j_version_is_the_same_everywhere():
    pom = (PROJECT_ROOT / "neo4j-local" / "pom.xml").read_text()
    assert "<neo4j.version>5.26." in pom
    assert _compose()["services"]["neo4j"]["image"].startswith("neo4j:5.26")
