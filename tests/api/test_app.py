from __future__ import annotations

import pytest

from graph import db


def test_health_answers(http):
    assert http.get("/health").json() == {"status": "ok"}


def test_ready_when_neo4j_answers_and_migrations_are_applied(http):
    response = http.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_graphql_health_field(http):
    response = http.post("/graphql", json={"query": "{ health { status version } }"})
    assert response.status_code == 200
    assert response.json()["data"]["health"] == {"status": "ok", "version": "0.1.0"}


def test_graphiql_is_served_to_browsers(http):
    response = http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert "c360-tabs" in response.text and "Person360" in response.text  # ready-made examples


def test_graphiql_assets_are_served_by_the_api_without_credentials(client_as):
    anonymous = client_as(None)
    for asset, kind in [
        ("graphiql.min.js", "javascript"),
        ("graphiql.min.css", "text/css"),
        ("react.production.min.js", "javascript"),
        ("c360-graphiql.js", "javascript"),
    ]:
        response = anonymous.get(f"/graphiql/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"], asset


def test_ready_reports_unavailable_when_neo4j_stops_answering(api, http, settings):
    state = api.app.state
    state.driver.close()
    state.settings = settings.model_copy(update={"neo4j_uri": "bolt://127.0.0.1:9"})
    state.driver = db.connect(state.settings, verify=False)
    response = http.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "not reachable" in response.json()["reason"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b"[1, 2]", {"content-type": "application/json"}),
        (b"query=1", {"content-type": "text/plain"}),
        (b"null", {"content-type": "application/json"}),
        (b"42", {"content-type": "application/json"}),
        (b'"text"', {"content-type": "application/json"}),
        (b'{"query": "{ health { status } }\xff"}', {"content-type": "application/json"}),
    ],
)
def test_a_malformed_request_gets_a_graphql_error_body(http, body, headers):
    response = http.post("/graphql", content=body, headers=headers)
    assert 400 <= response.status_code < 500
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and error["message"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ node(id: "garbage") { id } }', "BAD_USER_INPUT"),
        ("{ person(id: 5) { personId } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ persn { personId } }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ person(id: "x" { personId } }', "GRAPHQL_PARSE_FAILED"),
    ],
)
def test_every_graphql_error_has_a_code(http, query, code):
    body = http.post("/graphql", json={"query": query}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]
    assert body["errors"][0]["message"] != "Unexpected error."


def test_a_query_while_neo4j_is_down_is_unavailable_and_says_so(api, http, settings):
    state = api.app.state
    state.driver.close()
    state.settings = settings.model_copy(update={"neo4j_uri": "bolt://127.0.0.1:9"})
    state.driver = db.connect(state.settings, verify=False, retry_s=0.5)
    body = http.post("/graphql", json={"query": '{ person(id: "p-1") { personId } }'}).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAVAILABLE"]
    assert "unavailable" in body["errors"][0]["message"]
    assert body["data"] == {"person": None}


def test_the_neo4j_browser_guide_and_style_are_served_to_any_origin(client_as, api):
    anonymous = client_as(None)
    guide = anonymous.get("/browser/guide.html", headers={"Origin": "http://127.0.0.1:7474"})
    assert guide.status_code == 200 and guide.headers["access-control-allow-origin"] == "*"
    assert f":style {api.url}/browser/customer360.grass" in guide.text  # this API's own address
    assert "__C360_API__" not in guide.text
    grass = anonymous.get("/browser/customer360.grass", headers={"Origin": "http://localhost:7474"})
    assert grass.status_code == 200 and grass.headers["access-control-allow-origin"] == "*"
    assert "node.Person {" in grass.text
