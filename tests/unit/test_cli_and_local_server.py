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


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["resolve"],
            "give record keys (source:id) to resolve, --pending for the records not resolved "
            "yet, or --all for every record",
        ),
        (
            ["resolve", "--all", "shop:1"],
            "give record keys (source:id), --all or --pending, only one",
        ),
        (
            ["resolve", "--all", "--pending"],
            "give record keys (source:id), --all or --pending, only one",
        ),
    ],
)
def test_resolve_says_what_it_needs(args, reason, capsys):
    assert main(args) == 1
    assert reason in capsys.readouterr().err


def test_generated_config_lets_neo4j_browser_load_the_guide_and_style_from_the_api(tmp_path):
    settings = Settings(_env_file=None, local_home=tmp_path / "home", api_port=8011)
    LocalNeo4j(settings, log=lambda m: None)._write_config()
    conf = dict(
        line.split("=", 1)
        for line in (tmp_path / "home/conf/neo4j.conf").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    # Neo4j 5.26 knows the setting by its old name only (an unknown one stops the server)
    assert conf["browser.remote_content_hostname_whitelist"].split(",") == [
        "guides.neo4j.com",
        "localhost",
        "127.0.0.1",
    ]
    assert (
        conf["browser.post_connect_cmd"] == "style http://127.0.0.1:8011/browser/customer360.grass"
    )


GB = 1 << 30


@pytest.mark.parametrize(
    ("total", "heap", "pagecache"),
    [
        (2 * GB, "512m", "256m"),  # the floors
        (16 * GB, "1024m", "512m"),  # a sixteenth and a thirty-second
        (23 * GB, "1472m", "736m"),
        (256 * GB, "4096m", "2048m"),  # the ceilings
    ],
)
def test_auto_memory_follows_the_documented_formula(total, heap, pagecache):
    from graph.localneo4j import memory_sizes

    assert memory_sizes(Settings(_env_file=None), total) == (heap, pagecache)


def test_explicit_memory_settings_are_used_as_given():
    from graph.localneo4j import memory_sizes

    settings = Settings(_env_file=None, heap_size="3g", pagecache_size="100m")
    assert memory_sizes(settings, 2 * GB) == ("3g", "100m")


def test_auto_memory_reaches_the_config_and_the_jvm(tmp_path):
    from graph.localneo4j import memory_sizes

    settings = Settings(_env_file=None, local_home=tmp_path / "home")
    server = LocalNeo4j(settings, log=lambda m: None)
    server._write_config()
    heap, pagecache = memory_sizes(settings)
    conf = (tmp_path / "home/conf/neo4j.conf").read_text()
    assert f"server.memory.heap.max_size={heap}\n" in conf
    assert f"server.memory.pagecache.size={pagecache}\n" in conf


# Lines as Neo4j 5.26 and its JVM write them (console.log, neo4j.log)
OOM = "Terminating due to java.lang.OutOfMemoryError: Java heap space"
BIND = (
    "2026-12-03 14:01:02.345+0000 ERROR Failed to start Neo4j on 127.0.0.1:7474. "
    "Caused by: java.net.BindException: Address already in use"
)
LOCK = (
    "Caused by: org.neo4j.io.locker.FileLockException: Lock file has been locked by another "
    "process: /x/data/databases/store_lock. Please ensure no other process is using this database"
)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (OOM, "ran out of memory (Terminating due to java.lang.OutOfMemoryError: Java heap"),
        (OOM, "e.g. C360_HEAP=1024m in .env (now 512m)"),
        (BIND, "a port Neo4j needs is taken"),
        (BIND, "now C360_BOLT_PORT=7687, C360_HTTP_PORT=7474"),
        (LOCK, "another Neo4j process holds the store lock of /home/x/neo4j"),
    ],
)
def test_a_failed_start_is_explained_by_its_known_cause(line, says):
    from pathlib import Path

    from graph.localneo4j import diagnose_start_failure

    told = diagnose_start_failure(
        ["2026-12-03 INFO  Starting...", line],
        heap="512m",
        bolt_port=7687,
        http_port=7474,
        home=Path("/home/x/neo4j"),
    )
    assert told is not None and says in told


def test_a_larger_heap_doubles_in_the_suggestion():
    from pathlib import Path

    from graph.localneo4j import diagnose_start_failure

    told = diagnose_start_failure([OOM], heap="2g", bolt_port=1, http_port=2, home=Path("/h"))
    assert told is not None and "C360_HEAP=4096m" in told


def test_the_reason_comes_only_from_what_this_start_wrote_to_any_log(tmp_path):
    settings = Settings(_env_file=None, local_home=tmp_path / "home", heap_size="512m")
    server = LocalNeo4j(settings, log=lambda m: None)
    logs = tmp_path / "home" / "logs"
    logs.mkdir(parents=True)
    (logs / "neo4j.log").write_text("2026-12-01 ERROR an old failure, fixed since\n")
    (logs / "console.log").write_text("")
    server._log_offsets = {
        name: (logs / name).stat().st_size for name in ("neo4j.log", "console.log")
    }
    assert server._log_reason().startswith("no error in the logs")
    with (logs / "neo4j.log").open("a") as fh:
        fh.write("2026-12-03 INFO  Starting...\n")
    with (logs / "console.log").open("a") as fh:
        fh.write(OOM + "\n")
    reason = server._log_reason()
    assert reason.startswith("Neo4j ran out of memory") and "old failure" not in reason


def test_the_jvm_option_naming_out_of_memory_is_no_out_of_memory():
    from pathlib import Path

    from graph.localneo4j import diagnose_start_failure

    options = "JVM arguments: [-XX:+UseG1GC, -XX:+ExitOnOutOfMemoryError, -Xmx512m]"
    assert (
        diagnose_start_failure([options], heap="512m", bolt_port=1, http_port=2, home=Path("/h"))
        is None
    )


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
