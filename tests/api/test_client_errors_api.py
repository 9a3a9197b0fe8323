"""What a new user hits first: the documented codes, an honest page-size limit, the
GraphQL-over-HTTP status codes, and one log line per client error."""

from __future__ import annotations

import logging

import pytest

import graph.store.sources

GRAPHQL_RESPONSE = "application/graphql-response+json"
PERSON = "query($id: String!) { person(id: $id) { personId } }"


def post(http, query: str, variables: dict | None = None, accept: str | None = None):
    headers = {"Accept": accept} if accept else {}
    return http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


def codes(response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


def test_a_variable_declared_with_the_wrong_type_is_a_validation_error(http):
    response = post(http, "query($id: Int!) { person(id: $id) { personId } }", {"id": 1})
    assert codes(response) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "Int!" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("variables", [{"id": 5}, {}, {"id": None}], ids=["int", "missing", "null"])
def test_a_variable_value_that_does_not_fit_its_type_is_bad_user_input(http, variables):
    assert codes(post(http, PERSON, variables)) == ["BAD_USER_INPUT"]


def test_first_above_the_page_cap_is_refused_naming_the_limit(http, api_settings):
    cap = api_settings.max_page_size
    query = 'query($n: Int) { searchPeople(name: "ann", first: $n) { totalCount } }'
    assert "errors" not in post(http, query, {"n": cap}).json()
    response = post(http, query, {"n": cap + 1})
    assert codes(response) == ["BAD_USER_INPUT"]
    error = response.json()["errors"][0]
    assert error["extensions"]["fields"] == [
        {
            "field": "first",
            "reason": f"must be at most {cap} (C360_MAX_PAGE); page with after: endCursor",
        }
    ]
    review = "query($n: Int) { possibleMatches(first: $n) { totalCount } }"
    assert codes(post(http, review, {"n": 100_000})) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ('{ person(id: "x" { personId } }', "GRAPHQL_PARSE_FAILED"),
        ("{ persn { personId } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
def test_graphql_response_json_answers_a_request_error_with_400_and_no_data(http, query, code):
    response = post(http, query, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json() and codes(response) == [code]


def test_graphql_response_json_answers_a_variable_value_error_with_400(http):
    response = post(http, PERSON, {"id": 5}, accept=f"{GRAPHQL_RESPONSE}, application/json;q=0.9")
    assert response.status_code == 400 and codes(response) == ["BAD_USER_INPUT"]


def test_graphql_response_json_answers_a_result_with_200_even_with_field_errors(http):
    response = post(
        http, '{ health { status } person(id: "p-none") { personId } }', accept=GRAPHQL_RESPONSE
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"]["health"] == {"status": "ok"}
    forbidden = post(
        http,
        'mutation { forgetPerson(input: {personId: "p-none"}) { __typename } }',
        accept=GRAPHQL_RESPONSE,
    )
    assert forbidden.status_code == 200 and "data" in forbidden.json()


def test_plain_json_clients_keep_200_for_every_graphql_result(http):
    response = post(http, "{ persn { personId } }", accept="application/json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    response = post(
        http, "{ persn { personId } }", accept=f"{GRAPHQL_RESPONSE};q=0, application/json"
    )
    assert response.status_code == 200


def test_a_client_error_is_logged_as_one_line_without_a_traceback(http, caplog):
    caplog.set_level(logging.INFO)
    for query in ("{ persn { personId } }", '{ person(id: "x" { personId } }'):
        post(http, query)
    post(http, PERSON, {"id": 5})
    lines = [r for r in caplog.records if r.name == "customer360.api"]
    assert [r.levelno for r in lines] == [logging.INFO] * 3
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in lines)
    assert "GRAPHQL_VALIDATION_FAILED" in lines[0].getMessage()
    assert "GRAPHQL_PARSE_FAILED" in lines[1].getMessage()
    assert not [r for r in caplog.records if r.name.startswith("strawberry")]


def test_an_unexpected_error_keeps_its_traceback_in_the_log_and_is_masked(
    http, caplog, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(graph.store.sources, "list_sources", broken)
    caplog.set_level(logging.INFO)
    response = post(http, "{ sources { id } }")
    assert codes(response) == ["INTERNAL_SERVER_ERROR"] and "a bug" not in response.text
    errors = [
        r for r in caplog.records if r.name == "customer360.api" and r.levelno == logging.ERROR
    ]
    assert len(errors) == 1 and errors[0].exc_info and errors[0].exc_info[0] is RuntimeError


def test_requests_refused_before_graphql_runs_are_logged_as_one_line_too(
    http, client_as, caplog, api_settings
):
    """401, 400 and 413 never reach GraphQL's error handling; their log line is the same."""
    caplog.set_level(logging.INFO)
    client_as(None).post("/graphql", json={"query": "{ sources { id } }"})
    http.post("/graphql", content=b"{not json", headers={"Content-Type": "application/json"})
    http.post(
        "/graphql",
        content=b"x" * (api_settings.max_body_bytes + 1),
        headers={"Content-Type": "application/json"},
    )
    lines = [r.getMessage() for r in caplog.records if r.name == "customer360.api"]
    assert [m.split(":")[0] for m in lines] == [
        "client error UNAUTHENTICATED",
        "client error BAD_REQUEST",
        "client error PAYLOAD_TOO_LARGE",
    ], lines
    assert all("\n" not in m for m in lines)
