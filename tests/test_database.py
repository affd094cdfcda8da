"""PF601-PF603 against real databases: a throwaway PostgreSQL cluster and SQLite files.

SQLAlchemy creates the deployed tables (``metadata.create_all``) from one set of models; the
project under test has models that drifted from them: a table that was never created
(PF601), a column the table lacks (PF602), NOT NULL columns without a default that the
model leaves empty (PF603). The CLI runs as a subprocess against the database given on the
command line, in the environment or in the config. The same models, run against the same
database, fail with exactly the errors the findings quote. Reading never writes, and a source
that cannot be read is one warning line while the static rules still run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from pitfalls.core.schema import Column, Lookup
from pitfalls.core.settings import parse_settings
from pitfalls.project.config import ProjectConfig
from pitfalls.sources.database import connect, reflect_database
from pitfalls.sources.errors import SchemaSourceError
from pitfalls.sources.load import DATABASE_URL_ENV, database_url, load_schemas
from psycopg import sql
from sqlalchemy import Column as SAColumn
from sqlalchemy import ForeignKey, Identity, Integer, MetaData, String, Table, Text, create_engine, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.services.process import free_port

CLI_TIMEOUT = 120.0
PASSWORD_MARK = "pw-Zq81-not-to-be-shown"


# -- the deployed schema -------------------------------------------------------------------


class Deployed(DeclarativeBase):
    """What the migrations created: no `comments` table, no `articles.references` column."""


class DeployedAuthor(Deployed):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))


class DeployedArticle(Deployed):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), server_default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("authors.id"))


# The project under test. `# PFnnn` marks the line each finding must be on.
MODELS = '''\
from typing import Optional

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Optional[str]] = mapped_column(String(100))  # PF603
    email: Mapped[Optional[str]] = mapped_column(String(200))
    articles: Mapped[list["Article"]] = relationship(back_populates="author")


class Article(Base):  # PF603 (slug is not mapped)
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Optional[Author]] = relationship(back_populates="articles")
    references: Mapped[Optional[list]] = mapped_column(JSON)  # PF602


class Comment(Base):
    __tablename__ = "comments"  # PF601

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]
'''
CLIENT = "import requests\n\nrequests.get('http://127.0.0.1:9/health')  # PF103\n"

EXPECTED = sorted(
    (path, number, code)
    for path, source in (("app/models.py", MODELS), ("app/client.py", CLIENT))
    for number, line in enumerate(source.splitlines(), 1)
    for code in re.findall(r"# (PF\d+)", line)
)
DATABASE_FINDINGS = [f for f in EXPECTED if f[2].startswith("PF6")]
STATIC_FINDINGS = [f for f in EXPECTED if not f[2].startswith("PF6")]


def write_project(root: Path, *, client: bool = True, pyproject: str = "[tool.pitfalls]\n") -> Path:
    files = {"pyproject.toml": pyproject, "app/__init__.py": "", "app/models.py": MODELS}
    if client:
        files["app/client.py"] = CLIENT
    for relative, content in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(content, encoding="utf-8")
    return root


def run_check(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``pitfalls check`` as a user runs it; the machine's own database URL never leaks in."""
    environment = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}
    environment.update({"PYTHONIOENCODING": "utf-8", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "pitfalls", "check", "--no-cache", "--output-format", "json", *args],
        check=False,
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def findings(result: subprocess.CompletedProcess[str], cwd: Path, root: Path) -> list[tuple[str, int, str]]:
    return sorted(
        ((cwd / d["filename"]).resolve().relative_to(root.resolve()).as_posix(), d["location"]["row"], d["code"])
        for d in json.loads(result.stdout)
    )


def messages(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {f"{d['code']}:{d['location']['row']}": d["message"] for d in json.loads(result.stdout)}


# -- databases ---------------------------------------------------------------------------


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_database(postgres: str) -> Iterator[str]:  # noqa: F811
    """An empty database of its own on the session's PostgreSQL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(postgres), autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield make_url(postgres).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(libpq(postgres), autocommit=True, connect_timeout=10) as admin:
        admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def deploy(url: str) -> None:
    engine = create_engine(url)
    try:
        Deployed.metadata.create_all(engine)
    finally:
        engine.dispose()


@pytest.fixture
def deployed_pg(pg_database: str) -> str:
    deploy(pg_database)
    return pg_database


@pytest.fixture
def deployed_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "deployed.sqlite"
    deploy(f"sqlite:///{path}")
    return path


# -- the CLI against the deployed databases ---------------------------------------------


def test_cli_reports_the_drift_against_postgresql_from_the_command_line(deployed_pg: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    result = run_check("--database-url", deployed_pg, ".", cwd=root)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    assert findings(result, root, root) == EXPECTED
    found = messages(result)
    assert "column articles.references does not exist" in found["PF602:28"]
    assert "does not map column 'slug'" in found["PF603:20"]


def test_cli_reads_the_database_url_from_the_environment(deployed_pg: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    result = run_check(".", cwd=root, env={DATABASE_URL_ENV: deployed_pg})
    assert (result.returncode, result.stderr) == (1, "")
    assert findings(result, root, root) == EXPECTED


def test_cli_reads_the_database_url_from_the_config_once_approved(deployed_pg: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", pyproject=f'[tool.pitfalls.database]\nurl = "{deployed_pg}"\n')
    approvals = {"PITFALLS_APPROVALS": str(tmp_path / "approved-urls")}
    refused = run_check(".", cwd=root, env=approvals)
    assert "pitfalls approve" in refused.stderr  # the repository's URL: not yet
    subprocess.run([sys.executable, "-m", "pitfalls", "approve", deployed_pg], env={**os.environ, **approvals}, check=True, timeout=CLI_TIMEOUT)
    result = run_check(".", cwd=root, env=approvals)
    assert (result.returncode, result.stderr) == (1, "")
    assert findings(result, root, root) == EXPECTED


def test_a_relative_sqlite_path_in_the_config_is_relative_to_the_project(deployed_sqlite: Path, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", pyproject='[tool.pitfalls.database]\nurl = "sqlite:///db/app.sqlite"\n')
    (root / "db").mkdir()
    (root / "db" / "app.sqlite").write_bytes(deployed_sqlite.read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_check(str(root), cwd=elsewhere)
    assert (result.returncode, result.stderr) == (1, "")
    assert findings(result, elsewhere, root) == EXPECTED


def test_a_relative_sqlite_path_in_the_environment_is_relative_to_the_working_folder(
    deployed_sqlite: Path, tmp_path: Path
) -> None:
    root = write_project(tmp_path / "project")
    result = run_check(".", cwd=root, env={DATABASE_URL_ENV: f"sqlite:///{os.path.relpath(deployed_sqlite, root)}"})
    assert (result.returncode, result.stderr) == (1, "")
    assert findings(result, root, root) == EXPECTED


def test_the_findings_quote_the_errors_the_database_raises(deployed_pg: str, tmp_path: Path) -> None:
    """Run the project's own models against the database: each finding's quoted error is
    the one PostgreSQL raises."""
    root = write_project(tmp_path / "project")
    quoted = {
        key: re.findall(r"`([^`]*(?:does not exist|violates not-null constraint))`", message)[0]
        for key, message in messages(run_check("--database-url", deployed_pg, ".", cwd=root)).items()
        if key.startswith("PF6")
    }
    spec = importlib.util.spec_from_file_location("drifted_models", root / "app" / "models.py")
    assert spec is not None and spec.loader is not None
    models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(models)
    attempts = {
        "PF601:32": lambda s: s.execute(select(models.Comment)).all(),
        "PF602:28": lambda s: s.execute(select(models.Article)).all(),
        "PF603:15": lambda s: (s.add(models.Author(name=None)), s.flush()),
        "PF603:20": lambda s: s.execute(insert(models.Article).values(title="Hello", status="draft")),
    }
    assert set(attempts) == set(quoted)
    engine = create_engine(deployed_pg)
    try:
        for key, attempt in attempts.items():
            with Session(engine) as session:
                with pytest.raises(DBAPIError) as raised:
                    attempt(session)
                assert quoted[key] in str(raised.value.orig), (key, str(raised.value.orig))
    finally:
        engine.dispose()


def test_a_changed_database_invalidates_cached_results(deployed_pg: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", client=False)
    cached = ("check", "--output-format", "json", "--database-url", deployed_pg, ".")
    environment = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV}

    def run() -> set[str]:
        done = subprocess.run(
            [sys.executable, "-m", "pitfalls", *cached], check=False, cwd=root, env=environment,
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CLI_TIMEOUT,
        )
        return set(messages(done))

    assert "PF602:28" in run()
    with closing(psycopg.connect(libpq(deployed_pg), autocommit=True, connect_timeout=10)) as conn:
        conn.execute('ALTER TABLE articles ADD COLUMN "references" json')
    assert (root / ".pitfalls_cache").exists()
    assert "PF602:28" not in run()


# -- reflection ---------------------------------------------------------------------------


def test_postgresql_reflection_knows_keys_defaults_identities_and_schemas(pg_database: str) -> None:
    with closing(psycopg.connect(libpq(pg_database), autocommit=True, connect_timeout=10)) as conn:
        conn.execute("""
            CREATE SCHEMA billing;
            CREATE TABLE serials (id serial PRIMARY KEY, counter bigserial, name text NOT NULL,
                                  state text NOT NULL DEFAULT 'new', note text);
            CREATE TABLE identities (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                     doubled int GENERATED ALWAYS AS (id * 2) STORED,
                                     seen timestamptz NOT NULL DEFAULT now());
            CREATE TABLE manual_keys (code text PRIMARY KEY, label text);
            CREATE TABLE billing.invoices (id int PRIMARY KEY, total numeric NOT NULL);
            CREATE TABLE billing.serials (id int);
            CREATE VIEW named_serials AS SELECT id, name FROM serials;
        """)
    schema = reflect_database(pg_database, timeout=10)
    assert (schema.default_schema, schema.schemas, schema.folds_case) == ("public", frozenset({"public", "billing"}), False)
    assert schema.tables["serials"] == {
        "id": Column("id", "INTEGER", False, True, True, True),
        "counter": Column("counter", "BIGINT", False, True, False, True),
        "name": Column("name", "TEXT", False, False, False, False),
        "state": Column("state", "TEXT", False, True, False, False),
        "note": Column("note", "TEXT", True, False, False, False),
    }
    assert schema.tables["identities"] == {
        "id": Column("id", "INTEGER", False, True, True, True),
        "doubled": Column("doubled", "INTEGER", True, True, False, False),
        "seen": Column("seen", "TIMESTAMP WITH TIME ZONE", False, True, False, False),
    }
    assert schema.tables["manual_keys"]["code"] == Column("code", "TEXT", False, False, True, False)
    assert schema.tables["named_serials"]["name"].nullable
    assert schema.tables["billing.invoices"]["total"] == Column("total", "NUMERIC", False, False, False, False)
    # Lookups: explicit schema, the one table elsewhere, ambiguity, schemas never read.
    assert schema.table("invoices", "billing") is schema.tables["billing.invoices"]
    assert schema.table("invoices") is schema.tables["billing.invoices"]
    assert schema.table("serials") is schema.tables["serials"]
    assert schema.table("serials", "billing") is schema.tables["billing.serials"]
    assert schema.table("missing") is Lookup.MISSING
    assert schema.table("missing", "billing") is Lookup.MISSING
    assert schema.table("invoices", "elsewhere") is Lookup.UNKNOWN


def test_sqlite_reflection_knows_which_keys_are_the_rowid(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript("""
            CREATE TABLE rowid_alias (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
            CREATE TABLE rowid_by_constraint (id integer NOT NULL, PRIMARY KEY (id));
            CREATE TABLE int_key (id INT NOT NULL PRIMARY KEY);
            CREATE TABLE big_key (id BIGINT NOT NULL PRIMARY KEY);
            CREATE TABLE pair (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b));
            CREATE TABLE defaults (state TEXT NOT NULL DEFAULT 'new', made TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
        """)
    schema = reflect_database(f"sqlite:///{path}", timeout=5)
    assert (schema.default_schema, schema.folds_case) == ("main", True)
    numbers_itself = {table: [c.autoincrement for c in cols.values()] for table, cols in schema.tables.items()}
    assert numbers_itself == {
        "rowid_alias": [True, False],
        "rowid_by_constraint": [True],
        "int_key": [False],  # INT is not INTEGER: not the rowid, NULL is refused
        "big_key": [False],
        "pair": [False, False],
        "defaults": [False, False],
    }
    assert [c.has_default for c in schema.tables["defaults"].values()] == [True, True]
    assert schema.table("ROWID_ALIAS") is schema.tables["rowid_alias"]  # SQLite names ignore case
    assert schema.column(schema.tables["rowid_alias"], "NAME") is schema.tables["rowid_alias"]["name"]


def test_sqlalchemy_identity_and_server_defaults_reflect_as_defaults(pg_database: str) -> None:
    metadata = MetaData()
    Table(
        "events", metadata,
        SAColumn("id", Integer, Identity(), primary_key=True),
        SAColumn("kind", String(20), nullable=False, server_default="click"),
        SAColumn("payload", Text, nullable=False),
    )
    engine = create_engine(pg_database)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    events = reflect_database(pg_database, timeout=10).tables["events"]
    assert [(c.name, c.nullable, c.has_default, c.autoincrement) for c in events.values()] == [
        ("id", False, True, True),
        ("kind", False, True, False),
        ("payload", False, False, False),
    ]


# -- read-only ------------------------------------------------------------------------------


def _catalog_and_data(url: str) -> tuple[list, list, list]:
    with closing(psycopg.connect(libpq(url), autocommit=True, connect_timeout=10)) as conn:
        columns = conn.execute(
            "SELECT table_schema, table_name, column_name, is_nullable, column_default, data_type"
            " FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " ORDER BY 1, 2, 3"
        ).fetchall()
        relations = conn.execute(
            "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' ORDER BY 1"
        ).fetchall()
        rows = conn.execute("SELECT id, name, email FROM authors ORDER BY id").fetchall()
    return columns, relations, rows


def test_a_run_changes_neither_the_catalog_nor_the_data(deployed_pg: str, tmp_path: Path) -> None:
    with closing(psycopg.connect(libpq(deployed_pg), autocommit=True, connect_timeout=10)) as conn:
        conn.execute("INSERT INTO authors (name, email) VALUES ('Ada', 'ada@example.com'), ('Grace', NULL)")
    before = _catalog_and_data(deployed_pg)
    root = write_project(tmp_path / "project")
    assert run_check("--database-url", deployed_pg, ".", cwd=root).returncode == 1
    assert _catalog_and_data(deployed_pg) == before


def test_the_postgresql_session_refuses_writes(deployed_pg: str) -> None:
    engine = connect(deployed_pg, timeout=5)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError, match="read-only transaction"):
            connection.execute(text("CREATE TABLE intruder (id int)"))
    finally:
        engine.dispose()


def test_a_run_leaves_the_sqlite_file_untouched(deployed_sqlite: Path, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    before = (hashlib.sha256(deployed_sqlite.read_bytes()).hexdigest(), deployed_sqlite.stat().st_mtime_ns)
    siblings = sorted(p.name for p in deployed_sqlite.parent.iterdir())
    assert run_check("--database-url", f"sqlite:///{deployed_sqlite}", ".", cwd=root).returncode == 1
    assert (hashlib.sha256(deployed_sqlite.read_bytes()).hexdigest(), deployed_sqlite.stat().st_mtime_ns) == before
    assert sorted(p.name for p in deployed_sqlite.parent.iterdir()) == siblings  # no journal, no WAL


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    missing = root / "nowhere.sqlite"
    result = run_check("--database-url", f"sqlite:///{missing}", ".", cwd=root)
    assert result.returncode == 1
    assert findings(result, root, root) == STATIC_FINDINGS
    assert result.stderr == f"pitfalls: warning: database sqlite:///{missing}: no such SQLite file; PF6xx rules are off\n"
    assert not missing.exists()


# -- sources that cannot be read ----------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def _fault_url(kind: str, postgres: str, silent_port: int) -> tuple[str, str]:  # noqa: F811
    """(URL, what the warning must say) for each kind of unreadable source."""
    if kind == "refused":
        return f"postgresql+psycopg://app:{PASSWORD_MARK}@127.0.0.1:{free_port()}/app", "Connection refused"
    if kind == "timeout":
        return f"postgresql+psycopg://app:{PASSWORD_MARK}@127.0.0.1:{silent_port}/app", "timeout expired"
    if kind == "wrong password":
        url = make_url(postgres).set(password=PASSWORD_MARK).render_as_string(hide_password=False)
        return url, "password authentication failed"
    if kind == "bad URL":
        return f"postgresql://app:{PASSWORD_MARK}@oops@127.0.0.1/app", "not a database URL"
    if kind == "unknown driver":
        url = f"postgresql+nosuchdriver://app:{PASSWORD_MARK}@127.0.0.1/app"
        return url, "no dialect or driver named 'postgresql+nosuchdriver'"
    assert kind == "missing driver" and importlib.util.find_spec("pg8000") is None
    return f"postgresql+pg8000://app:{PASSWORD_MARK}@127.0.0.1/app", "the driver for 'postgresql+pg8000' is not installed"


FAULTS = ["refused", "timeout", "wrong password", "bad URL", "unknown driver", "missing driver"]


@pytest.mark.parametrize("kind", FAULTS)
def test_an_unreadable_database_is_one_warning_and_the_static_rules_still_run(
    kind: str, postgres: str, silent_port: int, tmp_path: Path  # noqa: F811
) -> None:
    url, cause = _fault_url(kind, postgres, silent_port)
    root = write_project(tmp_path / "project", pyproject="[tool.pitfalls.database]\ntimeout = 2\n")
    started = time.monotonic()
    result = run_check("--database-url", url, ".", cwd=root)
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stderr
    assert findings(result, root, root) == STATIC_FINDINGS
    warnings = result.stderr.splitlines()
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("pitfalls: warning: database ") and warnings[0].endswith("; PF6xx rules are off")
    assert cause in warnings[0]
    if kind != "bad URL":
        assert make_url(url).render_as_string(hide_password=True) in warnings[0]  # names the source
    assert PASSWORD_MARK not in result.stdout + result.stderr
    assert "oops" not in result.stderr  # nothing of a password that split the URL


@pytest.mark.parametrize("kind", ["refused", "wrong password"])
def test_an_unreadable_database_without_findings_exits_zero(
    kind: str, postgres: str, silent_port: int, tmp_path: Path  # noqa: F811
) -> None:
    url, cause = _fault_url(kind, postgres, silent_port)
    root = write_project(tmp_path / "project", client=False)
    result = run_check("--database-url", url, ".", cwd=root)
    assert (result.returncode, json.loads(result.stdout)) == (0, []), result.stderr
    assert cause in result.stderr and PASSWORD_MARK not in result.stderr


def test_reflection_errors_never_show_the_password() -> None:
    url = f"postgresql+psycopg://app:{PASSWORD_MARK}@127.0.0.1:{free_port()}/app?password={PASSWORD_MARK}"
    with pytest.raises(SchemaSourceError) as raised:
        reflect_database(url, timeout=2)
    assert PASSWORD_MARK not in str(raised.value)
    assert "app:***@127.0.0.1" in str(raised.value) and "password=***" in str(raised.value)


# -- where the URL comes from --------------------------------------------------------------


def test_the_command_line_wins_over_the_environment_which_wins_over_the_config(tmp_path: Path) -> None:
    config = ProjectConfig(parse_settings({"database": {"url": "sqlite:///db/config.sqlite"}}), tmp_path, None)
    env = {DATABASE_URL_ENV: "sqlite:///env.sqlite"}
    assert database_url(config, env, "sqlite:///cli.sqlite") == "sqlite:///cli.sqlite"
    assert database_url(config, env) == "sqlite:///env.sqlite"
    assert database_url(config, {}) == f"sqlite:///{tmp_path}/db/config.sqlite"
    unconfigured = ProjectConfig(parse_settings({}), tmp_path, None)
    assert database_url(unconfigured, {}) is None
    assert load_schemas(unconfigured, env={}).schemas.database is None
    given = tmp_path / "given.sqlite"
    with closing(sqlite3.connect(given)) as conn:
        conn.execute("CREATE TABLE given_table (id INTEGER PRIMARY KEY)")
    loaded = load_schemas(config, env=env, database=f"sqlite:///{given}")
    assert loaded.warnings == [] and loaded.schemas.database is not None
    assert list(loaded.schemas.database.tables) == ["given_table"]


def test_load_schemas_turns_an_unreadable_database_into_a_warning(tmp_path: Path) -> None:
    config = ProjectConfig(parse_settings({"database": {"url": "sqlite:///absent.sqlite"}}), tmp_path, None)
    loaded = load_schemas(config, env={})
    assert loaded.schemas.database is None
    assert loaded.warnings == [f"database sqlite:///{tmp_path}/absent.sqlite: no such SQLite file; PF6xx rules are off"]
    assert load_schemas(config, env={}, live=False).warnings == []  # files-only mode reads no database




def test_the_command_line_url_wins_and_stays_relative_to_the_working_folder(deployed_sqlite: Path, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", pyproject='[tool.pitfalls.database]\nurl = "sqlite:///config.sqlite"\n')
    relative = os.path.relpath(deployed_sqlite, root)
    result = run_check("--database-url", f"sqlite:///{relative}", ".", cwd=root, env={DATABASE_URL_ENV: "sqlite:///env.sqlite"})
    assert (result.returncode, result.stderr) == (1, "")
    assert findings(result, root, root) == EXPECTED
    from_env = run_check(".", cwd=root, env={DATABASE_URL_ENV: "sqlite:///env.sqlite"})
    assert from_env.stderr == "pitfalls: warning: database sqlite:///env.sqlite: no such SQLite file; PF6xx rules are off\n"


# -- pitfalls doctor against the database -------------------------------------------------


def run_doctor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != DATABASE_URL_ENV and not k.startswith("DIRECTUS_")}
    return subprocess.run(
        [sys.executable, "-m", "pitfalls", "doctor", *args], check=False, cwd=cwd, env=environment,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )


def test_doctor_passes_when_the_models_match_the_database(pg_database: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project", client=False)
    (root / "app" / "models.py").write_text(
        "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import declarative_base\n\n"
        "Base = declarative_base()\n\n\nclass Tag(Base):\n    __tablename__ = 'tags'\n"
        "    id = Column(Integer, primary_key=True)\n    name = Column(String, nullable=False)\n",
        encoding="utf-8",
    )
    engine = create_engine(pg_database)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE tags (id serial PRIMARY KEY, name text NOT NULL)")
    finally:
        engine.dispose()
    result = run_doctor("--database-url", pg_database, ".", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("PASS  database postgresql+psycopg://")
    assert "***@127.0.0.1" in result.stdout and "answers: 1 table" in result.stdout
    assert "PASS  code: models, collection names and permissions match the database" in result.stdout


def test_doctor_fails_on_drift_and_on_a_database_that_does_not_answer(deployed_pg: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    result = run_doctor("--database-url", deployed_pg, ".", cwd=root)
    assert result.returncode == 1
    assert f"FAIL  code: {len(DATABASE_FINDINGS)} findings against the database:" in result.stdout
    assert "column articles.references does not exist" in result.stdout and "PF103" not in result.stdout

    wrong = make_url(deployed_pg).set(password=PASSWORD_MARK).render_as_string(hide_password=False)
    refused = run_doctor("--database-url", wrong, ".", cwd=root)
    assert refused.returncode == 1 and PASSWORD_MARK not in refused.stdout + refused.stderr
    assert refused.stdout.splitlines()[0].startswith("FAIL  database postgresql+psycopg://")
    assert "remedy: check the database URL" in refused.stdout
