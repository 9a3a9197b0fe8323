"""A local Neo4j Community server without Docker: fetch, configure, start, stop.

The jars come from Maven Central through ``mvn`` and the recipe ``neo4j-local/pom.xml`` (Neo4j
Community plus Neo4j Browser); they land in ``settings.neo4j_lib_dir``. The server's home
(``conf/``, ``data/``, ``logs/``, ``run/neo4j.pid``) is ``settings.local_home``. Both are
git-ignored. The JVM is started directly (``org.neo4j.server.CommunityEntryPoint``) in its own
session so it outlives the command that started it; ``stop`` only ever signals the process
recorded in the pid file.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph.errors import LocalNeo4jError
from graph.settings import PROJECT_ROOT, Settings

__all__ = ["LocalNeo4j", "ServerStatus", "diagnose_start_failure", "memory_sizes"]

RECIPE = PROJECT_ROOT / "neo4j-local" / "pom.xml"
_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
#: The server's logs, in the order their errors are reported (console.log: the JVM's output).
_LOGS = ("neo4j.log", "console.log", "debug.log")
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"

# The JVM options Neo4j's own launcher adds (server.jvm.additional in its default neo4j.conf).
# Without the --add-opens the page cache falls back to a slow mode (it warns in debug.log).
_JVM_OPTIONS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


_MB = 1 << 20
#: ``auto`` sizes: this share of the machine's memory (RAM, or the cgroup's limit when lower),
#: within these bounds (MB). A development server on a shared laptop takes ~10% of it.
HEAP_SHARE, HEAP_MIN_MB, HEAP_MAX_MB = 1 / 16, 512, 4096
PAGECACHE_SHARE, PAGECACHE_MIN_MB, PAGECACHE_MAX_MB = 1 / 32, 256, 2048


def _machine_memory() -> int:
    """Bytes of memory this process may use: physical RAM, or a lower cgroup v2 limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
    except OSError:
        return total
    return min(total, int(limit)) if limit.isdigit() else total


def memory_sizes(settings: Settings, total_bytes: int | None = None) -> tuple[str, str]:
    """The local server's ``(heap, page cache)`` as Neo4j size strings (``"1456m"``).

    An explicit ``C360_HEAP`` / ``C360_PAGECACHE`` is used as given. ``auto`` (the default)
    follows this formula over ``total_bytes`` (default: the machine's memory, or its cgroup
    limit when lower), in whole MB:

    - heap = total / 16, at least 512 MB, at most 4 GB
    - page cache = total / 32, at least 256 MB, at most 2 GB

    (16 GB of RAM: 1 GB heap, 512 MB page cache.) Neo4j's own guidance for production is
    ``neo4j-admin server memory-recommendation``; this one keeps a development server to about
    a tenth of a laptop shared with other work.
    """
    total = _machine_memory() if total_bytes is None else total_bytes

    def auto(share: float, low: int, high: int) -> str:
        return f"{min(max(int(total * share) // _MB, low), high)}m"

    heap = (
        auto(HEAP_SHARE, HEAP_MIN_MB, HEAP_MAX_MB)
        if settings.heap_size == "auto"
        else settings.heap_size
    )
    pagecache = (
        auto(PAGECACHE_SHARE, PAGECACHE_MIN_MB, PAGECACHE_MAX_MB)
        if settings.pagecache_size == "auto"
        else settings.pagecache_size
    )
    return heap, pagecache


def _megabytes(size: str) -> int:
    """A Neo4j size string (``512m``, ``2g``, ``1048576``) in MB."""
    unit = size[-1].lower()
    number = int(size[:-1]) if unit in "kmg" else int(size)
    return {"k": number // 1024, "m": number, "g": number * 1024}.get(unit, number // _MB)


#: Known causes of a failed start: (words one of which a log line holds, what to tell the
#: user); ``{line}``, ``{heap}``, ``{bigger}``, ``{bolt}``, ``{http}`` and ``{home}`` are filled in.
_CAUSES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("java.lang.OutOfMemoryError",),  # not the JVM option ExitOnOutOfMemoryError
        "Neo4j ran out of memory ({line}); give it a larger heap, e.g. C360_HEAP={bigger} "
        "in .env (now {heap})",
    ),
    (
        ("Address already in use", "BindException"),
        "a port Neo4j needs is taken ({line}); stop what holds it or choose others "
        "(now C360_BOLT_PORT={bolt}, C360_HTTP_PORT={http})",
    ),
    (
        ("FileLockException", "StoreLockException", "Lock file has been locked"),
        "another Neo4j process holds the store lock of {home} ({line}); stop it (it was "
        "started outside c360, or its pid file was removed) and start again",
    ),
)


def diagnose_start_failure(
    lines: list[str], *, heap: str, bolt_port: int, http_port: int, home: Path
) -> str | None:
    """The cause of a failed start told by log ``lines`` (Neo4j's and the JVM's), as one
    sentence with its remedy, or None when no known cause shows: an OutOfMemoryError
    (suggests ``C360_HEAP`` doubled, at least 1 GB), a port in use, a store lock held by
    another process."""
    for words, message in _CAUSES:
        for line in lines:
            if any(word in line for word in words):
                return message.format(
                    line=line.strip()[-300:],
                    heap=heap,
                    bigger=f"{max(1024, 2 * _megabytes(heap))}m",
                    bolt=bolt_port,
                    http=http_port,
                    home=home,
                )
    return None


# Servers this process started (a bulk load restarts one) outlive the LocalNeo4j that
# started them: their handles stay here so they are never reported as leaked children.
_CHILDREN: list[subprocess.Popen[bytes]] = []


@dataclass(frozen=True, slots=True)
class ServerStatus:
    """What ``status`` knows: ``running`` with its ``pid``, and where it listens."""

    running: bool
    pid: int | None
    bolt_uri: str
    browser_url: str
    home: Path


class LocalNeo4j:
    """Manages one local Neo4j server described by ``settings``.

    ``start()`` and ``stop()`` are idempotent: starting a running server and stopping a stopped
    one change nothing and say so in the returned message. Errors raise
    :class:`~graph.errors.LocalNeo4jError` with the reason taken from Neo4j's own log.
    """

    def __init__(self, settings: Settings, *, log=print) -> None:
        self.settings = settings
        self.home = settings.local_home
        self.lib = settings.neo4j_lib_dir
        self.log = log
        self._log_offsets: dict[str, int] = {}  # where each log ended before this start
        self._proc: subprocess.Popen[bytes] | None = None  # kept so stop() can reap our child

    # -- paths -------------------------------------------------------------------------------
    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "neo4j.pid"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.settings.bolt_port}"

    @property
    def browser_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.http_port}/browser/"

    @property
    def api_url(self) -> str:
        """The address of the API of these settings (``c360 serve``), as a browser reaches it."""
        host = self.settings.api_host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{host}:{self.settings.api_port}"

    def _allowlist(self) -> list[str]:
        hosts = ["guides.neo4j.com", "localhost", "127.0.0.1"]
        api_host = self.api_url.split("://", 1)[1].rsplit(":", 1)[0]
        return hosts if api_host in hosts else [*hosts, api_host]

    # -- public API ----------------------------------------------------------------------------
    def status(self) -> ServerStatus:
        """Return whether the server from the pid file is alive, and its addresses."""
        pid = self._live_pid()
        return ServerStatus(pid is not None, pid, self.bolt_uri, self.browser_url, self.home)

    def fetch(self) -> bool:
        """Download the jars of the recipe with ``mvn`` unless already present.

        Returns True when it downloaded. Raises :class:`LocalNeo4jError` when Java or Maven is
        missing or Maven fails (its own error lines are included).
        """
        marker = self.lib / ".recipe-sha256"
        digest = hashlib.sha256(RECIPE.read_bytes()).hexdigest()
        if marker.exists() and marker.read_text().strip() == digest:
            return False
        for tool in ("java", "mvn"):
            if shutil.which(tool) is None:
                raise LocalNeo4jError(
                    f"`{tool}` is not on PATH: the local Neo4j needs a Java 17+ JDK and Maven "
                    "(or set NEO4J_URI to an existing server)"
                )
        if self.lib.exists():
            shutil.rmtree(self.lib)
        self.log(f"Fetching Neo4j and Neo4j Browser from Maven Central into {self.lib} ...")
        started = time.monotonic()
        proc = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(RECIPE),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.lib}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
            raise LocalNeo4jError(
                "mvn could not fetch Neo4j: " + (" | ".join(lines[:5]) or proc.stderr[-500:])
            )
        marker.write_text(digest + "\n")
        jars = len(list(self.lib.glob("*.jar")))
        self.log(f"Fetched {jars} jars in {time.monotonic() - started:.1f} s")
        return True

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Serialise start/stop on one home: a second `start` waits for the first to finish
        and then finds the server running, instead of racing it for the store lock."""
        (self.home / "run").mkdir(parents=True, exist_ok=True)
        with (self.home / "run" / "c360.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(self) -> str:
        """Fetch if needed, configure, start in the background and wait until Bolt answers.

        Returns a message saying where Bolt and Browser are (or that it was already running).
        Raises :class:`LocalNeo4jError` with Neo4j's own error lines when the start fails, and
        when the Bolt or HTTP port is taken by another process.
        """
        with self._exclusive():
            return self._start()

    def _start(self) -> str:
        if (pid := self._live_pid()) is not None:
            return (
                f"Neo4j is already running (pid {pid}) at {self.bolt_uri}; "
                f"Browser: {self.browser_url}"
            )
        for port in (self.settings.bolt_port, self.settings.http_port):
            if _port_open(port):
                raise LocalNeo4jError(
                    f"port {port} on 127.0.0.1 is already in use by another process; "
                    "stop it or choose other ports (C360_BOLT_PORT, C360_HTTP_PORT)"
                )
        self.fetch()
        self._write_config()
        self._set_initial_password()
        started = time.monotonic()
        self._log_offsets = {
            name: (self.logs_dir / name).stat().st_size
            for name in _LOGS
            if (self.logs_dir / name).exists()
        }
        proc = self._launch()
        self._wait_for_bolt(proc)
        return (
            f"Neo4j {self._version()} started in {time.monotonic() - started:.1f} s "
            f"(pid {proc.pid}) at {self.bolt_uri}; Browser: {self.browser_url}"
        )

    def stop(self, timeout_s: float = 60.0) -> str:
        """Stop the server recorded in the pid file (SIGTERM, then SIGKILL after timeout_s)."""
        with self._exclusive():
            return self._stop(timeout_s)

    def _stop(self, timeout_s: float) -> str:
        pid = self._live_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return "Neo4j is not running (nothing started by customer360 at this home)"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait()
            self._proc = None
        self.pid_file.unlink(missing_ok=True)
        return f"Neo4j stopped (pid {pid})"

    def dump(self, path: Path) -> int:
        """Write the database to the archive ``path`` with ``neo4j-admin database dump``
        (a consistent copy: the server must be stopped, Community cannot dump online).

        The archive is written next to ``path`` and renamed into place once complete, so a
        failed dump never leaves a partial file under that name. Returns its size in bytes.
        Raises :class:`LocalNeo4jError` when the server runs or the tool fails.
        """
        self._require_stopped("dump")
        self.fetch()
        self._write_config()
        path = path.resolve()
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("wb") as out:
                self._admin(
                    ["database", "dump", self.settings.neo4j_database, "--to-stdout"], stdout=out
                )
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return path.stat().st_size

    def load(self, path: Path) -> None:
        """Replace the database with the archive ``path`` (``neo4j-admin database load
        --overwrite-destination``); the server must be stopped. Raises
        :class:`LocalNeo4jError` when it runs, the archive is missing or the tool fails."""
        self._require_stopped("load")
        if not path.is_file():
            raise LocalNeo4jError(f"no backup archive at {path}")
        self.fetch()
        self._write_config()
        with path.open("rb") as archive:
            self._admin(
                [
                    "database",
                    "load",
                    self.settings.neo4j_database,
                    "--from-stdin",
                    "--overwrite-destination=true",
                ],
                stdin=archive,
            )

    def _require_stopped(self, what: str) -> None:
        if (pid := self._live_pid()) is not None:
            raise LocalNeo4jError(f"Neo4j runs (pid {pid}): stop it before a {what}")

    def _admin(self, args: list[str], *, stdin: Any = None, stdout: Any = None) -> None:
        """Run ``neo4j-admin`` (its main class, from the same jars as the server)."""
        proc = subprocess.run(
            ["java", "-cp", f"{self.lib}/*", _ADMIN_TOOL, *args],
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._env(),
            cwd=self.home,
            check=False,
        )
        if proc.returncode != 0:
            lines = proc.stderr.decode(errors="replace").strip().splitlines()
            reason = " | ".join(ln.strip() for ln in lines if ln.strip())[-600:]
            raise LocalNeo4jError(f"neo4j-admin {' '.join(args[:2])} failed: {reason}")

    # -- bulk import ---------------------------------------------------------------------------
    @property
    def staging_home(self) -> Path:
        """Where :meth:`import_database` builds a store, beside the live one (same file
        system, so :meth:`replace_database` only renames directories)."""
        return self.home / "import-staging"

    def import_database(
        self,
        nodes: Sequence[Path],
        relationships: Sequence[Path],
        *,
        array_delimiter: str = ";",
        multiline_fields: bool = False,
        heap: str = "1g",
        echo: bool = False,
    ) -> Path:
        """Build a new store of the database with ``neo4j-admin database import full`` from
        CSV files with typed headers, in :attr:`staging_home` (the live server keeps running
        and is not touched). Returns the staging home for :meth:`replace_database`. With
        ``echo`` the importer's progress goes to this process's stderr. Raises
        :class:`LocalNeo4jError` with the importer's last lines when it fails (the staging
        home is removed then)."""
        staged = self.staging_home
        shutil.rmtree(staged, ignore_errors=True)
        (staged / "conf").mkdir(parents=True)
        conf = (self.conf_dir / "neo4j.conf").read_text()
        (staged / "conf" / "neo4j.conf").write_text(
            conf.replace(str(self.home.resolve()), str(staged.resolve()))
        )
        env = dict(os.environ, NEO4J_HOME=str(staged.resolve()), NEO4J_CONF=str(staged / "conf"))
        cmd = [
            "java",
            f"-Xmx{heap}",
            "-cp",
            f"{self.lib.resolve()}/*",
            _ADMIN_TOOL,
            "database",
            "import",
            "full",
            self.settings.neo4j_database,
            "--overwrite-destination=true",
            f"--array-delimiter={array_delimiter}",
            f"--multiline-fields={'true' if multiline_fields else 'false'}",
            f"--report-file={staged / 'import.report'}",
            *(f"--nodes={path.resolve()}" for path in nodes),
            *(f"--relationships={path.resolve()}" for path in relationships),
        ]
        proc = subprocess.run(
            cmd,
            env=env,
            cwd=staged,
            stdout=None if echo else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            tail = (proc.stdout or "").strip().splitlines()[-6:]
            shutil.rmtree(staged, ignore_errors=True)
            raise LocalNeo4jError(
                f"neo4j-admin database import failed (exit {proc.returncode}): "
                + (" | ".join(tail) or "see its output above")
            )
        return staged

    def replace_database(self, staged: Path) -> str:
        """Stop the server, put the store built by :meth:`import_database` in place of the
        database's store and start the server again. The old store is moved aside before the
        new one moves in and is deleted last, so a kill at any point leaves the database
        either as it was, missing (Neo4j starts it empty) or replaced, never a mix. Returns
        the start message; raises :class:`LocalNeo4jError` when the server does not start."""
        name = self.settings.neo4j_database
        old = staged / "replaced"
        old.mkdir(exist_ok=True)
        self.stop()
        for sub in ("databases", "transactions"):
            live = self.home / "data" / sub / name
            if live.exists():
                (old / sub).mkdir(exist_ok=True)
                live.rename(old / sub / name)
        for sub in ("databases", "transactions"):
            new = staged / "data" / sub / name
            if new.exists():
                (self.home / "data" / sub).mkdir(parents=True, exist_ok=True)
                new.rename(self.home / "data" / sub / name)
        message = self.start()
        shutil.rmtree(staged, ignore_errors=True)
        return message

    # -- steps -----------------------------------------------------------------------------
    def _write_config(self) -> None:
        s = self.settings
        heap, pagecache = memory_sizes(s)
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        home = self.home.resolve()
        conf = "\n".join(
            [
                "# Written by `c360 neo4j start`; edit the C360_* settings instead of this file.",
                "server.default_listen_address=127.0.0.1",
                "server.default_advertised_address=127.0.0.1",
                f"server.bolt.listen_address=127.0.0.1:{s.bolt_port}",
                f"server.bolt.advertised_address=127.0.0.1:{s.bolt_port}",
                f"server.http.listen_address=127.0.0.1:{s.http_port}",
                f"server.http.advertised_address=127.0.0.1:{s.http_port}",
                "server.https.enabled=false",
                f"server.memory.heap.initial_size={heap}",
                f"server.memory.heap.max_size={heap}",
                f"server.memory.pagecache.size={pagecache}",
                "dbms.memory.transaction.total.max=0",
                "dbms.security.auth_enabled=true",
                "dbms.usage_report.enabled=false",
                # Neo4j Browser may fetch customer360's guide and style sheet from the API,
                # and loads the style sheet on connecting (see api/browser_guide.py)
                f"browser.remote_content_hostname_whitelist={','.join(self._allowlist())}",
                f"browser.post_connect_cmd=style {self.api_url}/browser/customer360.grass",
                f"server.directories.data={home / 'data'}",
                f"server.directories.logs={home / 'logs'}",
                f"server.directories.run={home / 'run'}",
                f"server.directories.import={home / 'import'}",
                f"server.directories.plugins={home / 'plugins'}",
                "",
            ]
        )
        (self.conf_dir / "neo4j.conf").write_text(conf)

    def _set_initial_password(self) -> None:
        if (self.home / "data" / "dbms" / "auth.ini").exists():
            return  # only possible before the first start; later the stored password rules
        password = self.settings.password()
        if len(password) < 8:
            raise LocalNeo4jError("NEO4J_PASSWORD must have at least 8 characters for Neo4j 5")
        proc = subprocess.run(
            ["java", "-cp", f"{self.lib}/*", _ADMIN_TOOL, "dbms", "set-initial-password", password],
            capture_output=True,
            text=True,
            env=self._env(),
            check=False,
        )
        if proc.returncode != 0:
            raise LocalNeo4jError(
                "setting the initial password failed: "
                f"{(proc.stderr or proc.stdout).strip()[-400:]}"
            )

    def _launch(self) -> subprocess.Popen[bytes]:
        heap, _ = memory_sizes(self.settings)
        console = open(self.logs_dir / "console.log", "ab")
        cmd = [
            "java",
            f"-Xms{heap}",
            f"-Xmx{heap}",
            *_JVM_OPTIONS,
            "-cp",
            f"{self.lib}/*",
            _ENTRY_POINT,
            f"--home-dir={self.home.resolve()}",
            f"--config-dir={self.conf_dir.resolve()}",
        ]
        proc = subprocess.Popen(
            cmd,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self._env(),
            start_new_session=True,
            cwd=self.home,
        )
        console.close()
        self.pid_file.write_text(f"{proc.pid}\n")
        self._proc = proc
        _LAUNCHED.append(proc)  # the server outlives this object: never collect its Popen

        _CHILDREN.append(proc)
        return proc

    def _wait_for_bolt(self, proc: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.settings.start_timeout_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise LocalNeo4jError(
                    f"Neo4j exited with code {proc.returncode} during start: {self._log_reason()}"
                )
            if _port_open(self.settings.bolt_port) and self._started_logged():
                return
            time.sleep(0.25)
        raise LocalNeo4jError(
            f"Neo4j did not open Bolt on port {self.settings.bolt_port} within "
            f"{self.settings.start_timeout_s:.0f} s (pid {proc.pid} left running): "
            f"{self._log_reason()}"
        )

    # -- helpers ---------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home.resolve())
        env["NEO4J_CONF"] = str(self.conf_dir.resolve())
        return env

    def _live_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _alive(pid):
            return None
        try:  # the pid may have been reused by an unrelated process after a reboot
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return pid
        return pid if _ENTRY_POINT.encode() in cmdline else None

    def _new_log_lines(self, name: str) -> list[str]:
        """The lines log ``name`` gained since this start began (its last 400)."""
        path = self.logs_dir / name
        if not path.exists():
            return []
        with path.open("rb") as fh:
            fh.seek(self._log_offsets.get(name, 0))
            return fh.read().decode(errors="replace").splitlines()[-400:]

    def _started_logged(self) -> bool:
        return any("Started." in line for line in self._new_log_lines("neo4j.log"))

    def _log_reason(self) -> str:
        """Why this start failed, from what every log (console.log holds the JVM's own
        output: OutOfMemoryError, a bind failure) wrote since it began."""
        written = {name: self._new_log_lines(name) for name in _LOGS}
        everything = [line for lines in written.values() for line in lines]
        known = diagnose_start_failure(
            everything,
            heap=memory_sizes(self.settings)[0],
            bolt_port=self.settings.bolt_port,
            http_port=self.settings.http_port,
            home=self.home,
        )
        if known is not None:
            return known
        for name in _LOGS:
            lines = [
                ln.strip()
                for ln in written[name]
                if " ERROR " in ln or "Exception" in ln or "Error:" in ln
            ]
            if lines:
                return f"{' | '.join(dict.fromkeys(lines[-4:]))} (in {self.logs_dir / name})"
        return f"no error in the logs; see {self.logs_dir}"

    def _version(self) -> str:
        jar = next(self.lib.glob("neo4j-[0-9]*.jar"), None)
        return jar.stem.removeprefix("neo4j-") if jar else "?"


#: Every server process this Python process launched (see ``_launch``).
_LAUNCHED: list[subprocess.Popen[bytes]] = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as gone
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
