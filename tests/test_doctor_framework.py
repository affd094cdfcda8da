"""`pitfalls doctor`'s Framework Health Check (the business object guide's) against a real
PostgreSQL and a real redis-server (tests/services/postgres.py, tests/services/redis.py):
imports resolve, the framework's tables exist, Redis answers and its streams can be read."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import write_project
from tests.services.process import free_port
from tests.services.redis import RedisServer
from tests.test_database import pg_database  # noqa: F401 (a fixture: an empty database of its own)

PROJECT = {
    "pyproject.toml": """
        [project]
        name = "shop"
        version = "1.0"
        dependencies = ["sqlalchemy>=2.0", "redis>=5.0"]

        [tool.pitfalls]
    """,
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/base.py": """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class CompanyBaseModel(Base):
            __abstract__ = True

            id: Mapped[int] = mapped_column(primary_key=True)
            company_id: Mapped[int] = mapped_column(index=True)
    """,
    "app/framework/mixins.py": """
        from sqlalchemy.orm import Mapped, mapped_column


        class BusinessObjectMixin:
            is_active: Mapped[bool] = mapped_column(default=True)


        class AuditableMixin:
            __audit_exclude__ = ("is_active",)


        class EventPublisherMixin:
            __event_stream__ = "business_object_events"
    """,
    "app/framework/audit.py": """
        from sqlalchemy.orm import Mapped, mapped_column

        from app.framework.base import Base


        class AuditLog(Base):
            __tablename__ = "audit_logs"

            id: Mapped[int] = mapped_column(primary_key=True)
            entity_type: Mapped[str]
            entity_id: Mapped[int]
    """,
    "app/models.py": """
        from sqlalchemy.orm import Mapped

        from app.framework.base import CompanyBaseModel
        from app.framework.mixins import AuditableMixin, BusinessObjectMixin, EventPublisherMixin


        class Partner(CompanyBaseModel, BusinessObjectMixin, AuditableMixin, EventPublisherMixin):
            __tablename__ = "partners"
            __event_stream__ = "partner_events"

            name: Mapped[str]
    """,
    "app/events.py": """
        import os

        import redis

        client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))


        def publish(stream: str, event: str) -> None:
            client.xadd(stream, {"event": event})
    """,
}
TABLES = {
    "partners": "id serial PRIMARY KEY, company_id integer NOT NULL, is_active boolean NOT NULL DEFAULT true, name text NOT NULL",
    "audit_logs": "id serial PRIMARY KEY, entity_type text NOT NULL, entity_id integer NOT NULL",
}


@pytest.fixture
def doctor(run_main, monkeypatch, tmp_path: Path):
    """``pitfalls doctor [args] .`` in-process in a project of ``files``, with only the given
    REDIS_URL and the user's approvals in a folder of their own; (exit code, stdout)."""
    monkeypatch.setenv("PITFALLS_APPROVALS", str(tmp_path / "approved-urls"))
    monkeypatch.delenv("PITFALLS_DATABASE_URL", raising=False)

    def run(files: dict[str, str], *args: str, redis_url: str | None = None) -> tuple[int, str]:
        if redis_url is None:
            monkeypatch.delenv("REDIS_URL", raising=False)
        else:
            monkeypatch.setenv("REDIS_URL", redis_url)
        root = write_project(tmp_path / "project", files)
        code, out, err = run_main("doctor", *args, ".", cwd=root)
        assert err == ""
        return code, out

    return run


def create_tables(url: str, tables: dict[str, str]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for name, columns in tables.items():
                connection.exec_driver_sql(f"CREATE TABLE {name} ({columns})")
    finally:
        engine.dispose()


def test_doctor_passes_against_real_postgresql_and_redis(doctor, pg_database: str, redis_server: RedisServer) -> None:  # noqa: F811
    create_tables(pg_database, TABLES)
    with redis_server.client() as client:
        client.delete("partner_events", "business_object_events")
        client.xadd("partner_events", {"event": "partner.created"}, id="1767225600000-0")
    code, out = doctor(PROJECT, "--database-url", pg_database, redis_url=redis_server.url)
    assert code == 0, out
    assert all(line.startswith("PASS  ") for line in out.splitlines()), out
    for expected in (
        "imports: every import resolves",
        "framework: tables exist: audit_logs, partners",
        f"redis redis://127.0.0.1:{redis_server.port}/0 answers PING",
        "redis: stream 'partner_events' can be read: 1 event, the newest added 2026-01-01 00:00:00 UTC",
        "redis: stream 'business_object_events' can be read: no events yet",
    ):
        assert expected in out, expected


@pytest.mark.parametrize("fault", ["redis down", "table missing"])
def test_doctor_fails_with_the_guides_remedy(doctor, pg_database: str, redis_server: RedisServer, fault: str) -> None:  # noqa: F811
    create_tables(pg_database, {k: v for k, v in TABLES.items() if fault != "table missing" or k != "audit_logs"})
    redis_url = f"redis://127.0.0.1:{free_port()}/0" if fault == "redis down" else redis_server.url
    code, out = doctor(PROJECT, "--database-url", pg_database, redis_url=redis_url)
    assert code == 1
    failed = [line for line in out.splitlines() if line.startswith("FAIL  ")]
    if fault == "redis down":
        assert len(failed) == 1 and failed[0].startswith(f"FAIL  redis {redis_url}: PING: "), out
        assert "Connection refused" in out and "remedy: start Redis" in out and "REDIS_URL" in out
    else:
        assert 'FAIL  framework: 1 of 2 tables missing from the database (relation "audit_logs" does not exist)' in out
        assert "remedy: apply the framework's migrations: alembic upgrade head" in out
        assert "PASS  redis: stream 'partner_events' can be read" in out


def test_doctor_fails_on_an_import_that_cannot_resolve_and_without_the_redis_package(doctor, monkeypatch) -> None:
    broken = {**PROJECT, "app/services.py": "from app.framework.services import CompanyBusinessObjectService\n"}
    monkeypatch.setitem(sys.modules, "redis", None)  # redis-py not installed
    code, out = doctor(broken, redis_url="redis://127.0.0.1:6379/0")
    assert code == 1
    assert "FAIL  imports: 1 import that cannot resolve:" in out
    assert "remedy: create the missing module or __init__.py" in out
    assert "app/services.py:1:1: PF303 `ModuleNotFoundError: No module named 'app.framework.services'`" in out
    assert "SKIP  framework: tables not looked for (audit_logs, partners): no database URL" in out
    assert "FAIL  redis redis://127.0.0.1:6379/0: the redis package is not installed" in out
    assert 'remedy: install redis-py where pitfalls runs: pip install "pitfalls[redis]"' in out


def test_a_redis_the_repository_names_is_contacted_only_once_approved(doctor, run_main, redis_server: RedisServer) -> None:
    files = {**PROJECT, "pyproject.toml": PROJECT["pyproject.toml"] + f'\n[tool.pitfalls.redis]\nurl = "{redis_server.url}"\n'}
    with redis_server.client() as client:
        connections = lambda: client.info("stats")["total_connections_received"]  # noqa: E731
        before = connections()
        code, out = doctor(files)
        assert code == 1 and "FAIL  not contacted: " in out and f"pitfalls approve {redis_server.url}" in out, out
        assert connections() == before
        assert run_main("approve", redis_server.url, cwd=Path.cwd())[0] == 0
        code, out = doctor(files)
        assert code == 0 and f"PASS  redis {redis_server.url} answers PING" in out, out
        assert connections() > before
