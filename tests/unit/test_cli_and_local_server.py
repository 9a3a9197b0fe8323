from __future__ import annotations

import pytest

from graph.cli import main
from graph.localneo4j import LocalNeo4j
from graph.settings import Settings


@pytest.fixture(autouse=True)
def no_env(monkeypatch, tmp_path):
    for name in ("NEO4J_URI", "NEO4J_PASSWORD", "C360_NEO4J_HOME", "C360_BOLT_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_generated_config_listens_on_loopback_and_advertises_the_chosen_ports(tmp_path):
    settings = Settings(
        _env_file=None,
        local_home=tmp_path / "home",
        bolt_port=7688,
        http_port=7475,
        heap_size="256m",
        pagecache_size="64m",
    )
    server = LocalNeo4j(settings, log=lambda m: None)
    server._write_config()
    conf = dict(
        line.split("=", 1)
        for line in (tmp_path / "home/conf/neo4j.conf").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert conf["server.bolt.listen_address"] == "127.0.0.1:7688"
    assert conf["server.bolt.advertised_address"] == "127.0.0.1:7688"
    assert conf["server.http.advertised_address"] == "127.0.0.1:7475"
    assert conf["server.default_listen_address"] == "127.0.0.1"
    assert conf["server.memory.heap.max_size"] == "256m"
    assert conf["dbms.usage_report.enabled"] == "false"
    assert conf["dbms.security.auth_enabled"] == "true"


def test_status_of_a_server_never_started_exits_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("C360_NEO4J_HOME", str(tmp_path / "nothing"))
    assert main(["neo4j", "status"]) == 3
    assert "not running" in capsys.readouterr().out


def test_stop_without_a_started_server_is_a_no_op(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("C360_NEO4J_HOME", str(tmp_path / "nothing"))
    assert main(["neo4j", "stop"]) == 0
    assert "not running" in capsys.readouterr().out


def test_a_non_bolt_uri_is_one_clear_line(monkeypatch, capsys):
    monkeypatch.setenv("NEO4J_URI", "http://127.0.0.1:7474")
    assert main(["sources", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: invalid settings: NEO4J_URI: must start with one of bolt://")
    assert "\n" not in err


def test_rules_check_exits_1_and_lists_every_problem(tmp_path, capsys):
    path = tmp_path / "rules.toml"
    path.write_text('[[rules]]\nname = "x"\ncomparisons = [{field = "shoe", scorer = "fuzzy"}]\n')
    assert main(["rules", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert (
        "rules[0] (x).comparisons[0].field" in err and "rules[0] (x).comparisons[0].scorer" in err
    )


def test_explain_refuses_a_record_key_where_a_person_id_belongs(capsys):
    assert main(["explain", "shop:C1"]) == 1
    assert "looks like a record key" in capsys.readouterr().err


def test_version_is_printed(capsys):
    assert main(["--version"]) == 0
    assert "c360, version" in capsys.readouterr().out


def test_load_refuses_an_argument_that_is_not_source_equals_file(capsys):
    assert main(["load", "shop"]) == 1
    assert "'shop' is not SOURCE=PATH" in capsys.readouterr().err


def test_load_names_every_missing_file_before_connecting(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:1")  # never reached
    missing = [tmp_path / "customers.jsonl", tmp_path / "orders.csv"]
    assert main(["load", *(f"shop={p}" for p in missing)]) == 1
    err = capsys.readouterr().err
    assert all(f"{p} does not exist" in err for p in missing)
    assert "not reachable" not in err
