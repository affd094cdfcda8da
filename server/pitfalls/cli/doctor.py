"""``pitfalls doctor``: the troubleshooting guide's connection tester and schema validator.

Each check prints one PASS/FAIL line and, when it fails, the guide's remedy. The checks run
in the order a person would: is Directus up, do the credentials work, does the user have a
role and policies, can the token read the schema and each collection the code uses, does the
database answer, do the project's models and collection names match the schemas; then, for a
project on the business object framework or using Redis, the guide's Framework Health Check
(:mod:`pitfalls.cli.doctor_framework`). Exit 0 only when every check passes. No line ever
holds a token or a password.
"""

from __future__ import annotations

import sys
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import libcst as cst

from pitfalls.cli import output
from pitfalls.cli.terminal import printable
from pitfalls.core import names
from pitfalls.core.diagnostics import Diagnostic
from pitfalls.core.schema import DatabaseSchema, DirectusSchema, Schemas
from pitfalls.core.source import ParseFailure, decode, parse
from pitfalls.core.walker import iter_nodes
from pitfalls.project.config import ConfigResolver, ProjectConfig
from pitfalls.project.discovery import discover
from pitfalls.project.files import UnreadableFile, read_bounded
from pitfalls.project.run import CheckResult, check_files, project_files
from pitfalls.rules._directus import ITEMS_URL, item_call_collection
from pitfalls.sources.database import reflect_database, safe_url
from pitfalls.sources.directus import REMEDY_401, REMEDY_403, Credentials, DirectusClient
from pitfalls.sources.errors import SchemaSourceError
from pitfalls.sources.load import database_url, refused_database, refused_directus, snapshot_path

REMEDY_UNREACHABLE = "start Directus, and check the URL (directus.url, --directus-url) and the port"
REMEDY_NO_CREDENTIALS = "set DIRECTUS_TOKEN, or DIRECTUS_EMAIL and DIRECTUS_PASSWORD (DIRECTUS_API_AGENT_EMAIL/_PASSWORD)"
REMEDY_NO_POLICIES = (
    "assign the user a role whose policies grant what the code needs (Settings > Access Control); if the app "
    "shows them but the API does not, restart Directus to clear its cache and re-assign role and policies"
)
REMEDY_COLLECTION = (
    "in Settings > Access Control > Access Policies, add permissions on '{collection}' (the actions the code "
    "uses, fields *) to the token's policy, and check that the policy is assigned to the user's role"
)
REMEDY_FINDINGS = "fix the code or the schema (see `pitfalls rule <code>`), then take a new snapshot"
IMPORTS = "PF303"  # imports that cannot resolve: the framework health check's first
REMEDY_DATABASE = "check the database URL (--database-url, PITFALLS_DATABASE_URL), that the server runs, and the user's rights"


@dataclass(frozen=True)
class Result:
    ok: bool
    what: str
    remedy: str = ""


class Doctor:
    def __init__(
        self, config: ProjectConfig, paths: list[Path], out: TextIO | None = None,
        database: str | None = None, redis: str | None = None,
    ) -> None:
        self.config = config
        self.database_option = database  # --database-url, over the environment and the config
        self.redis_option = redis  # --redis-url, likewise
        self.paths = paths
        self.out = out or sys.stdout  # the stream of the moment, not the one at import time
        self.results: list[Result] = []

    def record(self, ok: bool, what: str, remedy: str = "") -> bool:
        result = Result(ok, what, "" if ok else remedy)
        self.results.append(result)
        self.out.write(f"{'PASS' if ok else 'FAIL'}  {printable(what)}\n")
        if result.remedy:
            self.out.write(f"      remedy: {result.remedy}\n")
        self.out.flush()
        return ok

    def skip(self, what: str, how: str) -> None:
        """A check that needs a source nobody named: said, and how to name it, but no failure."""
        self.out.write(f"SKIP  {printable(what)}\n      to check: {how}\n")
        self.out.flush()

    def run(self) -> int:
        from pitfalls.cli.doctor_framework import check_framework  # (which imports this module)

        directus = self.config.settings.directus
        named = url = database_url(self.config, command_line=self.database_option)
        schema = self.directus() if directus.url and self.approved(refused_directus(self.config)) else None
        if schema is None and directus.snapshot:
            schema = self.snapshot()
        if url and not self.approved(refused_database(self.config, url, command_line=self.database_option)):
            url = None
        database = self.database(url) if url else None
        schemas = Schemas(schema, database)
        result = self.analyse(schemas)
        if schema is not None or database is not None:
            self.code(schemas, result)
        check_framework(self, result, database, database_named=bool(named))
        if not self.results:
            self.record(
                False, "nothing to check: no Directus URL or snapshot, no database URL, and no framework or Redis in the code",
                "pass --directus-url, --directus-snapshot, --database-url or --redis-url, or set them under [tool.pitfalls]",
            )
        return 0 if all(r.ok for r in self.results) else 1

    def approved(self, refused: str | None) -> bool:
        """False (and a FAIL) for a server the repository names and the user never approved."""
        return refused is None or self.record(
            False, f"not contacted: {refused}", "approve the URL, or name it yourself (--directus-url, --database-url, --redis-url)"
        )

    # -- Directus ---------------------------------------------------------------------

    def directus(self) -> DirectusSchema | None:
        settings = self.config.settings.directus
        credentials = Credentials.from_env()
        with DirectusClient(settings.url or "", credentials, timeout=settings.timeout) as client:
            if not self._reachable(client):
                return None
            if not credentials.token and not credentials.email:
                self.record(False, "directus: no credentials in the environment", REMEDY_NO_CREDENTIALS)
                return None
            if not self._authenticated(client):
                return None
            self._role_and_policies(client)
            try:
                schema = client.snapshot().to_schema(f"Directus at {client.url}")
            except SchemaSourceError as exc:
                fallback = f" (checking against the snapshot {snapshot_path(self.config)} instead)" if settings.snapshot else ""
                self.record(False, f"directus: read the schema: {exc.cause}{fallback}", REMEDY_403)
                schema = None
            else:
                mine = [c for c in schema.collections if not c.startswith("directus_")]
                self.record(True, f"directus: read the schema: {count(len(mine), 'collection')} besides the system ones")
            for collection in sorted(self.collections_used()):
                self._readable(client, collection)
        return schema

    def _reachable(self, client: DirectusClient) -> bool:
        try:
            response = client.request("GET", "/server/health")
            if response.status_code in (401, 403):  # Directus 12 keeps health to admins
                response = client.request("GET", "/server/ping")
        except SchemaSourceError as exc:
            return self.record(False, str(exc), REMEDY_UNREACHABLE)
        ok = response.status_code == 200
        return self.record(
            ok, f"directus: server at {client.url} answers ({response.request.url.path}: {response.status_code})",
            REMEDY_UNREACHABLE,
        )

    def _authenticated(self, client: DirectusClient) -> bool:
        how = client.credentials.describe()
        try:
            client.login()
            client.get("/users/me", dict[str, Any], {"fields": "id"})
        except SchemaSourceError as exc:
            return self.record(False, f"directus: authenticate ({how}): {exc.cause}", REMEDY_401)
        return self.record(True, f"directus: authenticate ({how})")

    def _role_and_policies(self, client: DirectusClient) -> None:
        fields = "role.name,policies.policy.name,role.policies.policy.name"
        try:
            me = client.get("/users/me", dict[str, Any], {"fields": fields})
        except SchemaSourceError as exc:
            self.record(False, f"directus: role and policies: {exc}", REMEDY_NO_POLICIES)
            return
        role = me.get("role") if isinstance(me.get("role"), dict) else None
        policies = sorted(set(_policy_names(me.get("policies")) + _policy_names((role or {}).get("policies"))))
        role_name = (role or {}).get("name")
        if not role_name and not policies:
            self.record(False, "directus: /users/me shows no role and no policies for this user", REMEDY_NO_POLICIES)
            return
        self.record(
            bool(role_name and policies),
            f"directus: role {role_name!r} with policies {', '.join(map(repr, policies)) or 'none'}",
            REMEDY_NO_POLICIES,
        )

    def _readable(self, client: DirectusClient, collection: str) -> None:
        try:
            client.get(f"/items/{collection}", Any, {"limit": "1", "fields": "*"})
        except SchemaSourceError as exc:
            remedy = REMEDY_COLLECTION.format(collection=collection)
            self.record(False, f"directus: read items of '{collection}' (used by the code): {exc.cause}", remedy)
        else:
            self.record(True, f"directus: read items of '{collection}' (used by the code)")

    def snapshot(self) -> DirectusSchema | None:
        from pitfalls.sources.directus import read_snapshot

        try:
            schema = read_snapshot(snapshot_path(self.config) or "")
        except SchemaSourceError as exc:
            self.record(False, f"directus: {exc}", "take a new snapshot: `directus schema snapshot --format json snap.json`")
            return None
        self.record(True, f"directus: {schema.source}: {count(len(schema.collections), 'collection')}")
        return schema

    # -- the database -----------------------------------------------------------------

    def database(self, url: str) -> DatabaseSchema | None:
        try:
            schema = reflect_database(url, timeout=self.config.settings.database.timeout)
        except SchemaSourceError as exc:
            self.record(False, str(exc), REMEDY_DATABASE)
            return None
        self.record(True, f"database {safe_url(url)} answers: {count(len(schema.tables), 'table')}")
        return schema

    # -- the code against the schemas -------------------------------------------------

    def files(self) -> list[Path]:
        return discover(self.paths, ConfigResolver(fixed=self.config))

    def collections_used(self) -> set[str]:
        """Collections the code names in item calls and `/items/<name>` URLs."""
        used: set[str] = set()
        for path in self.files():
            try:
                data = read_bounded(path, self.config.settings.max_file_size)
                module = parse(str(path), decode(str(path), data))
            except (UnreadableFile, ParseFailure):
                continue
            for node in iter_nodes(module):
                if isinstance(node, cst.Call):
                    found = item_call_collection(node)
                    if found is not None:
                        used.add(found[1])
                elif isinstance(node, (cst.SimpleString, cst.FormattedStringText)):
                    value = names.string_value(node) if isinstance(node, cst.SimpleString) else node.value
                    used.update(ITEMS_URL.findall(value or ""))
        return {c for c in used if not c.startswith("directus_")}

    def analyse(self, schemas: Schemas) -> CheckResult:
        """One run of the rules doctor reports, with the project index: PF5xx and PF6xx
        against the schemas there are, and PF303 (imports) for the framework's checks."""
        selected = [p for p, on in (("PF5", schemas.directus), ("PF6", schemas.database)) if on is not None]
        settings = dataclasses.replace(self.config.settings, select=[*selected, IMPORTS], ignore=[])
        config = ProjectConfig(settings, self.config.root, self.config.source)
        config.schemas = schemas
        resolver = ConfigResolver(fixed=config)
        files = discover(self.paths, resolver)
        return check_files(files, resolver, project=project_files(resolver, files), use_cache=False, keep_index=True)

    def code(self, schemas: Schemas, result: CheckResult) -> None:
        findings = [d for d in result.diagnostics if d.code.startswith(("PF5", "PF6"))]  # not PF000
        what = " and ".join(s for s, on in (("Directus", schemas.directus), ("the database", schemas.database)) if on)
        if not findings:
            self.record(True, f"code: models, collection names and permissions match {what} ({len(result.files)} files)")
            return
        self.record(False, f"code: {count(len(findings), 'finding')} against {what}:", REMEDY_FINDINGS)
        self.list_findings(findings)

    def list_findings(self, findings: list[Diagnostic]) -> None:
        """The findings behind a FAIL, under it."""
        for d in findings:
            self.out.write(f"      {output.line(d)}\n")
        self.out.flush()


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _policy_names(entries: Any) -> list[str]:
    """Names from Directus 11+'s `policies: [{"policy": {"name": ...}}]` access rows."""
    out = []
    for entry in entries if isinstance(entries, list) else []:
        policy = entry.get("policy") if isinstance(entry, dict) else None
        if isinstance(policy, dict) and policy.get("name"):
            out.append(str(policy["name"]))
    return out


def run_doctor(
    config: ConfigResolver, paths: list[Path], out: TextIO | None = None, database: str | None = None, redis: str | None = None
) -> int:
    """The checks of the schema sources the first path's configuration names, against the
    paths' code (one schema for all of it)."""
    first = paths[0]
    return Doctor(config.folder_config(first) if first.is_dir() else config.config_for(first), paths, out, database, redis).run()

