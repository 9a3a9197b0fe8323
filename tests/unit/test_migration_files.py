from __future__ import annotations

import zlib
from pathlib import Path

import pytest

from graph.errors import MigrationError
from graph.migrate import checksum, discover, split_statements
from graph.settings import PROJECT_ROOT


def test_statements_split_on_semicolon_newline_and_lose_the_semicolon():
    text = "\ufeffCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);\n\n  MATCH (n) RETURN 'a;b';\r\n"
    assert split_statements(text) == (
        "CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x)",
        "MATCH (n) RETURN 'a;b'",
    )


def test_checksum_is_unsigned_crc32_over_all_statement_bytes():
    statements = ("CREATE (n)", "RETURN 'é'")
    expected = zlib.crc32("RETURN 'é'".encode(), zlib.crc32(b"CREATE (n)"))
    assert checksum(statements) == str(expected)
    assert checksum(("a",)) == "3904355907"  # java.util.zip.CRC32 of "a"


def test_checksum_ignores_whitespace_around_statements_but_not_inside():
    assert checksum(split_statements("RETURN 1;\n")) == checksum(
        split_statements("  RETURN 1 ;\n\n")
    )
    assert checksum(split_statements("RETURN 1;\n")) != checksum(split_statements("RETURN  1;\n"))


def _write(folder: Path, name: str, text: str = "RETURN 1;\n") -> None:
    (folder / name).write_text(text)


def test_discover_orders_by_numeric_version_and_reads_description(tmp_path):
    _write(tmp_path, "V10__Later_one.cypher")
    _write(tmp_path, "V0002__Second.cypher")
    _write(tmp_path, "V1_1__Patch_of_first.cypher")
    found = discover(tmp_path)
    assert [m.version for m in found] == ["1.1", "0002", "10"]
    assert found[0].description == "Patch of first"


@pytest.mark.parametrize(
    "name",
    ["v0001__lower.cypher", "V0001_one_underscore.cypher", "V0001__.cypher", "Vx__Letters.cypher"],
)
def test_badly_named_file_is_refused_naming_it(tmp_path, name):
    _write(tmp_path, name)
    with pytest.raises(MigrationError, match=name.replace(".", r"\.")):
        discover(tmp_path)


def test_two_files_with_one_version_are_refused(tmp_path):
    _write(tmp_path, "V0001__One.cypher")
    _write(tmp_path, "V1__Other.cypher")
    with pytest.raises(MigrationError, match="both claim version"):
        discover(tmp_path)


def test_file_without_statements_is_refused(tmp_path):
    _write(tmp_path, "V0001__Empty.cypher", "\n\n")
    with pytest.raises(MigrationError, match="no Cypher statement"):
        discover(tmp_path)


def test_project_migrations_follow_the_conventions():
    migrations = discover(PROJECT_ROOT / "cypher")
    assert migrations[0].version == "0001"
    for m in migrations:
        raw = m.path.read_bytes()
        assert b"\r\n" not in raw, f"{m.source} must use LF line endings"
        assert raw.endswith(b";\n"), f"{m.source} must end its last statement with ;\\n"
        for statement in m.statements:
            if statement.lstrip("/ \n").upper().startswith("CREATE"):
                assert "IF NOT EXISTS" in statement, statement
