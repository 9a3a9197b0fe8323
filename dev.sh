#!/usr/bin/env bash
# customer360 developer entry point.
#   ./dev.sh up     set everything up (virtualenv, install, local Neo4j, migrations, demo data)
#                   and serve the API at http://127.0.0.1:8000/graphql
#   ./dev.sh test   set everything up and run the whole test suite against a real Neo4j
#   ./dev.sh stop   stop the local Neo4j that `up` started
# Needs Python 3.11+, and for the local Neo4j a Java 17+ JDK and Maven (or set NEO4J_URI).
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

setup() {
  local python stamp
  python=$(find_python)
  if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv with $python"
    "$python" -m venv .venv
  fi
  stamp=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ "$(cat .venv/.c360-installed 2>/dev/null)" != "$stamp" ]; then
    echo "==> installing customer360 and its test tools into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[test]'
    echo "$stamp" > .venv/.c360-installed
  fi
}

# Debian's Chromium for the browser tests (tests/api/browser); Playwright's own browser
# download is not used. Installed with apt-get when missing and we may (root); else say how.
ensure_chromium() {
  if [ -n "${C360_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1 ||
     command -v chromium-browser >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Chromium for the browser tests (apt-get install chromium)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: the browser tests need Chromium: install it (Debian: sudo apt-get install chromium) or set C360_CHROMIUM=/path/to/chrome" >&2
    return 1
  fi
}

# A setting as c360 reads it: the environment, then .env, then the default.
env_value() {
  local value="${!1:-}"
  [ -n "$value" ] || value=$(grep -s "^$1=" .env | tail -1 | cut -d= -f2- || true)
  echo "${value:-$2}"
}

case "${1:-}" in
  up)
    shift
    setup
    if [ -z "${NEO4J_URI:-}" ] && ! grep -qs '^NEO4J_URI=' .env; then
      .venv/bin/c360 neo4j start
    fi
    .venv/bin/c360 migrate
    people=$(grep -s '^C360_DEMO_PEOPLE=' .env | tail -1 | cut -d= -f2 || true)
    .venv/bin/c360 demo load --people "${C360_DEMO_PEOPLE:-${people:-500}}" --seed 42
    api="http://127.0.0.1:$(env_value C360_API_PORT 8000)"
    echo "==> GraphQL API and GraphiQL: $api/graphql  (the key: C360_API_KEYS in .env)"
    if [ -z "${NEO4J_URI:-}" ] && ! grep -qs '^NEO4J_URI=' .env; then
      echo "==> Neo4j Browser: http://127.0.0.1:$(env_value C360_HTTP_PORT 7474)/browser/  (user neo4j, NEO4J_PASSWORD in .env)"
      echo "    styled on connecting; for the guide, paste into its editor:  :guide $api/browser/guide.html"
    fi
    echo "==> Ctrl-C stops the API; './dev.sh stop' stops Neo4j"
    exec .venv/bin/c360 serve "$@"
    ;;
  test)
    shift
    setup
    ensure_chromium
    echo "==> ruff check, ruff format --check, mypy (graph, api)"
    .venv/bin/ruff check --quiet .
    .venv/bin/ruff format --check --quiet .
    .venv/bin/mypy
    exec .venv/bin/python -m pytest "$@"
    ;;
  stop)
    if [ -x .venv/bin/c360 ]; then
      .venv/bin/c360 neo4j stop
    else
      echo "nothing to stop: ./dev.sh up has not run here"
    fi
    ;;
  *)
    sed -n '2,7p' "$0"
    exit 2
    ;;
esac
