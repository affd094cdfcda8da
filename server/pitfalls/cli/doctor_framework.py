"""``pitfalls doctor``'s part of the business object guide's Framework Health Check.

Run when the project has the framework (a package defining its mixins, see :func:`learn`)
or talks to Redis: the project's imports resolve (PF303: the guide's Issue 1), the tables of
the models in or built on the framework exist in the database (Issue 4, Issue 11's
``audit_logs``), and Redis answers ``PING`` and its event streams can be read (Issue 12).
Everything about the code is read from the project index; nothing is imported, and Redis
is only read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone

from pitfalls.cli.doctor import IMPORTS, Doctor, count
from pitfalls.core.index import IndexView, ProjectIndex
from pitfalls.core.schema import DatabaseSchema, Lookup
from pitfalls.core.settings import Settings
from pitfalls.core.summary import ModuleSummary
from pitfalls.project.run import CheckResult
from pitfalls.rules._bases import is_declarative
from pitfalls.sources.errors import SchemaSourceError
from pitfalls.sources.load import REDIS_URL_ENV, redis_url, refused_redis
from pitfalls.sources.redis import RedisProbe, Stream

REMEDY_IMPORTS = (
    "create the missing module or __init__.py (touch app/__init__.py app/framework/__init__.py), fix the "
    "import path, or declare and install the missing dependency (see `pitfalls rule PF303`)"
)
REMEDY_TABLES = (
    "apply the framework's migrations: alembic upgrade head (or generate one: alembic revision "
    '--autogenerate -m "Create framework extension tables", check it, then alembic upgrade head)'
)
TO_CHECK_TABLES = "name the database the application uses: --database-url, PITFALLS_DATABASE_URL or [tool.pitfalls.database] url"
TO_CHECK_REDIS = "set REDIS_URL as the application has it (e.g. redis://localhost:6379/0), or pass --redis-url"
REMEDY_NOT_A_STREAM = "publish to another stream name, or delete the key (DEL {name}) if nothing needs it"


@dataclass(frozen=True)
class Framework:
    """What the project index says of the project's business object framework."""

    packages: tuple[str, ...]  # the packages defining its mixins, e.g. ("app.framework",)
    tables: dict[str, str]  # table -> the model class, in or built on the framework, that maps it
    streams: tuple[str, ...]  # event streams its classes name, and the configured ones
    uses_redis: bool  # some module imports redis


def learn(index: ProjectIndex, settings: Settings) -> Framework:
    """The framework is the package (or top-level module) defining at least two of the
    ``mixin-order`` mixins (one when only one is configured): a project's own stray
    ``AuditableMixin`` is no framework. Its classes and every class deriving from one count:
    their string ``__tablename__`` (declarative models only) and any string class
    attribute whose name holds ``stream`` (``__event_stream__ = "partner_events"``)."""
    view = IndexView(index, None)
    summaries = [index.by_path[path] for path in sorted(index.by_path)]
    mixins = set(settings.framework.mixin_order)
    packages: dict[str, set[str]] = {}
    for summary in summaries:
        packages.setdefault(_package(summary), set()).update(mixins & summary.classes.keys())
    found = tuple(sorted(p for p, defined in packages.items() if mixins and len(defined) >= min(2, len(mixins))))

    def inside(qualname: str) -> bool:
        return any(qualname == p or qualname.startswith(p + ".") for p in found)

    tables: dict[str, str] = {}
    streams: list[str] = []
    for summary in summaries:
        for info in summary.classes.values():
            if not found or not (inside(info.qualname) or any(inside(a) for a in view.ancestors(info.qualname))):
                continue
            table = info.class_constants.get("__tablename__")
            if table and is_declarative(view, info.qualname, settings.framework.declarative_bases):
                tables.setdefault(table, info.qualname)
            streams.extend(value for key, value in info.class_constants.items() if "stream" in key.lower() and value)
    uses_redis = any(i.module == "redis" or i.module.startswith("redis.") for s in summaries for i in s.imports)
    return Framework(found, tables, tuple(dict.fromkeys([*streams, *settings.redis.streams])), uses_redis)


def _package(summary: ModuleSummary) -> str:
    return summary.name if summary.is_package else summary.name.rpartition(".")[0] or summary.name


def check_framework(doctor: Doctor, result: CheckResult, database: DatabaseSchema | None, database_named: bool) -> None:
    """The framework's checks, after the schema sources' (``database_named``: a database URL
    was given, so its own line already says whether it answered)."""
    framework = learn(result.index or ProjectIndex(), doctor.config.settings)
    if framework.packages:
        imports(doctor, result)
        tables(doctor, framework, database, database_named)
    redis(doctor, framework)


def imports(doctor: Doctor, result: CheckResult) -> None:
    findings = [d for d in result.diagnostics if d.code == IMPORTS]
    if not findings:
        doctor.record(True, f"imports: every import resolves ({count(len(result.files), 'file')})")
        return
    doctor.record(False, f"imports: {count(len(findings), 'import')} that cannot resolve:", REMEDY_IMPORTS)
    doctor.list_findings(findings)


def tables(doctor: Doctor, framework: Framework, database: DatabaseSchema | None, database_named: bool) -> None:
    if not framework.tables:
        return
    if database is None:
        if not database_named:
            doctor.skip(f"framework: tables not looked for ({', '.join(framework.tables)}): no database URL", TO_CHECK_TABLES)
        return
    missing = [t for t in framework.tables if database.table(t) is Lookup.MISSING]
    if not missing:
        doctor.record(True, f"framework: tables exist: {', '.join(framework.tables)}")
        return
    which = ", ".join(f"{t} ({framework.tables[t].rpartition('.')[2]})" for t in missing)
    doctor.record(
        False, f"framework: {len(missing)} of {count(len(framework.tables), 'table')} missing from the database "
        f'(relation "{missing[0]}" does not exist): {which}', REMEDY_TABLES,
    )


def redis(doctor: Doctor, framework: Framework) -> None:
    """Redis, when one is named (``--redis-url``, the configuration) or the code uses it
    (then ``REDIS_URL``, which the framework's event publishing needs)."""
    config, option = doctor.config, doctor.redis_option
    configured = option or config.settings.redis.url
    if not (configured or (framework.uses_redis and (os.environ.get(REDIS_URL_ENV) or framework.packages))):
        return
    url = redis_url(config, command_line=option)
    if url is None:
        doctor.skip("redis: not checked: the code uses Redis, and no Redis URL is set", TO_CHECK_REDIS)
        return
    if not doctor.approved(refused_redis(config, url, command_line=option)):
        return
    try:
        with RedisProbe(url, config.settings.redis.timeout) as probe:
            probe.ping()
            doctor.record(True, f"redis {probe.shown} answers PING")
            for name in framework.streams:
                _stream(doctor, probe, name)
    except SchemaSourceError as exc:
        doctor.record(False, exc.cause, exc.remedy)


def _stream(doctor: Doctor, probe: RedisProbe, name: str) -> None:
    try:
        stream = probe.stream(name)
    except SchemaSourceError as exc:
        doctor.record(False, exc.cause, exc.remedy)
        return
    if stream.kind == "none":
        doctor.record(True, f"redis: stream '{name}' can be read: no events yet (the first XADD creates it)")
    elif stream.kind != "stream":
        doctor.record(
            False, f"redis: key '{name}' holds a {stream.kind}, not a stream: XADD to it fails with WRONGTYPE",
            REMEDY_NOT_A_STREAM.format(name=name),
        )
    else:
        doctor.record(True, f"redis: stream '{name}' can be read: {count(stream.length, 'event')}{_newest(stream)}")


def _newest(stream: Stream) -> str:
    """When the newest event was added: its ID starts with the milliseconds since 1970."""
    milliseconds = (stream.newest or "").partition("-")[0]
    if not milliseconds.isdigit():
        return ""
    when = datetime.fromtimestamp(int(milliseconds) / 1000, timezone.utc)
    return f", the newest added {when:%Y-%m-%d %H:%M:%S} UTC"
