from __future__ import annotations

import pydantic
import pytest

from graph.errors import ConfigError
from graph.settings import PROJECT_ROOT, Settings, env_file, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "NEO4J_URI",
        "NEO4J_USERNAME",
        "NEO4J_USER",
        "NEO4J_PASSWORD",
        "NEO4J_DATABASE",
        "C360_BOLT_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's


def test_neo4j_user_is_an_alias_of_neo4j_username(monkeypatch):
    monkeypatch.setenv("NEO4J_USER", "alice")
    assert load_settings().neo4j_username == "alice"
    monkeypatch.setenv("NEO4J_USERNAME", "bob")
    assert load_settings().neo4j_username == "bob"


def test_uri_is_used_as_given_and_defaults_to_local_bolt_port(monkeypatch):
    monkeypatch.setenv("C360_BOLT_PORT", "17000")
    assert load_settings().uri == "bolt://127.0.0.1:17000"
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://abc.databases.neo4j.io")
    settings = load_settings()
    assert settings.uri == "neo4j+s://abc.databases.neo4j.io"
    assert not settings.uses_local_server


def test_password_never_appears_in_repr_or_str(monkeypatch):
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-value")
    settings = load_settings()
    assert "s3cret-value" not in repr(settings) and "s3cret-value" not in str(settings)
    assert settings.password() == "s3cret-value"


def test_dotenv_file_is_read_after_the_environment(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("NEO4J_PASSWORD=from-file\nNEO4J_DATABASE=crm\n")
    monkeypatch.setenv("NEO4J_DATABASE", "from-env")
    settings = load_settings()
    assert settings.password() == "from-file"
    assert settings.neo4j_database == "from-env"


def test_missing_password_is_a_config_error_naming_the_variable():
    with pytest.raises(ConfigError, match="NEO4J_PASSWORD"):
        load_settings().password()


def test_invalid_setting_names_the_field(monkeypatch):
    monkeypatch.setenv("C360_BOLT_PORT", "70000")
    with pytest.raises(ConfigError, match="C360_BOLT_PORT"):
        load_settings()


def test_settings_are_frozen():
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        settings.neo4j_database = "other"  # type: ignore[misc]


def test_no_cors_origin_is_allowed_by_default(monkeypatch):
    monkeypatch.delenv("C360_CORS_ORIGINS", raising=False)
    assert load_settings().cors_origins == ()


def test_cors_origins_are_a_comma_separated_list_of_origins(monkeypatch):
    monkeypatch.setenv("C360_CORS_ORIGINS", " http://localhost:5173, HTTPS://App.Example.com/ ,")
    assert load_settings().cors_origins == ("http://localhost:5173", "https://app.example.com")
    monkeypatch.setenv("C360_CORS_ORIGINS", "*")
    assert load_settings().cors_origins == ("*",)


@pytest.mark.parametrize("bad", ["localhost:5173", "http://app.example.com/path", "ftp://x"])
def test_a_cors_origin_that_is_not_an_origin_is_refused_with_the_setting_named(monkeypatch, bad):
    monkeypatch.setenv("C360_CORS_ORIGINS", bad)
    with pytest.raises(ConfigError, match="C360_CORS_ORIGINS: .* is not an origin"):
        load_settings()


def test_the_env_file_is_the_named_one_else_the_working_directory_s_else_the_project_s(
    monkeypatch, tmp_path
):
    named = tmp_path / "elsewhere" / "c360.env"
    named.parent.mkdir()
    named.write_text("NEO4J_DATABASE=named\n")
    (tmp_path / ".env").write_text("NEO4J_DATABASE=here\n")
    monkeypatch.setenv("C360_ENV_FILE", str(named))
    assert env_file() == named and load_settings().neo4j_database == "named"
    monkeypatch.delenv("C360_ENV_FILE")
    assert env_file() == (tmp_path / ".env").resolve()
    assert load_settings().neo4j_database == "here"
    (tmp_path / ".env").unlink()
    assert env_file() == PROJECT_ROOT / ".env"  # run from any folder, c360 finds its .env
