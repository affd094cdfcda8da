"""What the database rules (PF6xx) know of SQLAlchemy models, read from the class statements.

A model is a top-level class of the module that is declarative (it derives from a declarative
base, see :func:`pitfalls.rules._bases.is_declarative`), names its table with a string
``__tablename__`` in its own body, is not ``__abstract__`` and does not bring its own
``__table__``. Its columns are the ``Column(...)``/``mapped_column(...)`` attributes (also
inside ``deferred``/``column_property``/``composite``) and the ``Mapped[...]`` annotations
without a value, of the class and of the mixins, abstract classes and declarative base it
inherits from that this module defines. Relationships, synonyms, association proxies and
other properties are no columns.

The index only records annotated class attributes, so an ancestor in another module may map
columns nobody here can see: then the model is not ``complete``, and the rules say nothing
about what it lacks. Nothing is imported or executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from pitfalls.core import names
from pitfalls.core.schema import Column, DatabaseSchema, Lookup
from pitfalls.rules._bases import class_bases, framework, is_declarative
from pitfalls.rules.api import RuleContext

_COLUMN_FACTORIES = frozenset({"Column", "mapped_column"})
# Wrappers whose first argument may be a column of the table.
_COLUMN_WRAPPERS = frozenset({"deferred", "column_property"})
# Class attributes that map no column of the table.
_NOT_COLUMNS = frozenset(
    {
        "relationship", "relation", "backref", "dynamic_loader", "synonym", "association_proxy",
        "query_expression", "column_property", "deferred", "hybrid_property", "hybrid_method",
    }
)
# Positional Column arguments that make the database fill the value.
_DATABASE_DEFAULTS = frozenset({"Identity", "Sequence", "Computed", "FetchedValue", "DefaultClause"})
_DEFAULT_KEYWORDS = frozenset({"default", "insert_default", "server_default", "default_factory"})
_DECLARATIVE_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.orm.decl_api.DeclarativeBase", "sqlalchemy.orm.decl_api.DeclarativeBaseNoMeta",
    }
)
# Bases that bring no column.
_COLUMN_FREE_BASES = _DECLARATIVE_BASES | {
    "builtins.object", "typing.Generic", "typing.Protocol",
    "sqlalchemy.orm.MappedAsDataclass", "sqlalchemy.orm.decl_api.MappedAsDataclass",
    "sqlalchemy.ext.asyncio.AsyncAttrs",
}
_BASE_FACTORIES = frozenset({"declarative_base", "generate_base"})
_DIRECTIVES = frozenset({"__tablename__", "__table_args__", "__mapper_args__", "__table__", "__abstract__"})
# What a declarative base's body may set besides columns.
_BASE_SETTINGS = frozenset({"metadata", "registry", "type_annotation_map"})


class _Unknown:
    """A value the source does not spell out literally."""


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class ModelColumn:
    attribute: str
    name: str  # the column's name in the database
    node: cst.CSTNode  # where a report about it goes
    owner: str  # the class that declares it
    nullable: bool | None  # None: the source does not say
    has_default: bool  # the ORM or the database supplies a value on insert
    primary_key: bool


@dataclass
class _Body:
    """What one class statement says."""

    tablename: str | _Unknown | None = None
    tablename_node: cst.BaseExpression | None = None
    abstract: bool = False
    has_table: bool = False
    schema: str | _Unknown | None = None  # from __table_args__
    metadata_schema: str | _Unknown | None = None  # from `metadata = MetaData(schema=...)`
    polymorphic: bool = False
    columns: list[ModelColumn] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # every attribute it sets, columns or not
    complete: bool = True  # every statement understood

@dataclass(frozen=True)
class Model:
    node: cst.ClassDef
    table: str
    table_node: cst.BaseExpression
    schema: str | None
    columns: list[ModelColumn]
    complete: bool  # every column it maps is known
    polymorphic: bool  # an inheritance base: subclasses may map more columns of the table

    @property
    def name(self) -> str:
        return self.node.name.value


def database(ctx: RuleContext) -> DatabaseSchema | None:
    """The run's database schema; None when no database is configured (the rules are off)."""
    return ctx.schemas.database


def checked_models(ctx: RuleContext) -> list[tuple[Model, dict[str, Column] | Lookup]]:
    """Each model the module defines at its top level, with what the database has for its
    table: a fact of the file, read once for PF601-PF603. Call from ``finish()``, when the
    context describes the module scope."""
    return ctx.fact(_checked_models)


def _checked_models(ctx: RuleContext) -> list[tuple[Model, dict[str, Column] | Lookup]]:
    schema = database(ctx)
    if schema is None:
        return []
    classes = [stmt for stmt in ctx.module.body if isinstance(stmt, cst.ClassDef)]
    by_name = {node.name.value: node for node in classes}
    configured = framework(ctx).declarative_bases
    found = []
    for node in classes:
        body = _read_body(ctx, node)
        if not isinstance(body.tablename, str) or body.tablename_node is None or body.abstract or body.has_table:
            continue
        qualname = f"{ctx.module_name}.{node.name.value}" if ctx.module_name else node.name.value
        if not is_declarative(ctx.index, qualname, configured):
            continue
        model = _model(ctx, node, body, by_name)
        if model is not None:
            found.append((model, schema.table(model.table, model.schema)))
    return found


def _model(ctx: RuleContext, node: cst.ClassDef, body: _Body, by_name: dict[str, cst.ClassDef]) -> Model | None:
    bodies, complete, metadata_schema = _ancestors(ctx, node, by_name)
    schema = next((part.schema for part in [body, *bodies] if part.schema is not None), None)
    if isinstance(schema, _Unknown):
        return None  # __table_args__ the source does not spell out: could name any schema
    if schema is None and isinstance(metadata_schema, str):
        schema = metadata_schema  # an unknown one leaves the lookup's fallback to find the table
    columns: list[ModelColumn] = []
    hidden: set[str] = set()
    for part in [body, *bodies]:
        columns += [c for c in part.columns if c.attribute not in hidden]
        hidden |= part.bound
        complete = complete and part.complete
    return Model(
        node=node,
        table=body.tablename,  # type: ignore[arg-type]  # checked by the caller
        table_node=body.tablename_node,  # type: ignore[arg-type]
        schema=schema,
        columns=columns,
        complete=complete,
        polymorphic=any(part.polymorphic for part in [body, *bodies]),
    )


def _ancestors(
    ctx: RuleContext, node: cst.ClassDef, by_name: dict[str, cst.ClassDef]
) -> tuple[list[_Body], bool, str | _Unknown | None]:
    """The bodies of the same-module classes ``node`` inherits columns from (nearest first),
    whether every ancestor could be read, and the schema the declarative base's metadata sets."""
    bodies: list[_Body] = []
    complete = True
    metadata_schema: str | _Unknown | None = None
    seen: set[str] = set()
    queue: list[cst.ClassDef] = [node]
    while queue:
        current = queue.pop(0)
        bases = class_bases(ctx, current)
        if bases is None:
            return bodies, False, metadata_schema
        for base in bases:
            qualname = base.qualname
            if qualname is None:
                complete = False
                continue
            if qualname in seen or qualname in _COLUMN_FREE_BASES:
                continue
            seen.add(qualname)
            module, _, name = qualname.rpartition(".")
            local = by_name.get(name) if module == ctx.module_name else None
            if local is not None:
                body = _read_body(ctx, local)
                if _is_mapped_class(ctx, local, body, qualname):
                    continue  # a parent model: its columns are in its own table
                bodies.append(body)
                if metadata_schema is None:
                    metadata_schema = body.metadata_schema
                queue.append(local)
                continue
            factory = ctx.value_of(name) if module == ctx.module_name else None
            if isinstance(factory, cst.Call) and names.last_name(factory.func) in _BASE_FACTORIES:
                metadata_schema, cls = _base_factory(ctx, factory)
                complete = complete and cls is None
                continue
            info = ctx.index.class_info(qualname)
            if info is not None and "__tablename__" in info.class_constants:
                continue  # a mapped parent in another module: its columns are in its own table
            complete = False
    return bodies, complete, metadata_schema


def _is_mapped_class(ctx: RuleContext, node: cst.ClassDef, body: _Body, qualname: str) -> bool:
    """Whether a same-module ancestor is a model (mapped to a table of its own, or through
    single-table inheritance to its parent's) rather than a mixin, an abstract class or
    the declarative base, whose columns its subclasses inherit."""
    if body.abstract:
        return False
    configured = framework(ctx).declarative_bases
    bases = class_bases(ctx, node) or []
    if node.name.value in configured or qualname in configured or any(b.qualname in _DECLARATIVE_BASES for b in bases):
        return False  # the declarative base itself
    return is_declarative(ctx.index, qualname, configured)


def _base_factory(ctx: RuleContext, call: cst.Call) -> tuple[str | _Unknown | None, cst.BaseExpression | None]:
    """``declarative_base(metadata=..., cls=...)``: the metadata's schema and the ``cls``."""
    schema: str | _Unknown | None = None
    cls = None
    for arg in call.args:
        if arg.star:
            return UNKNOWN, arg.value
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword == "metadata":
            schema = _metadata_schema(ctx, arg.value)
        elif keyword == "cls":
            cls = arg.value
    return schema, cls


def _metadata_schema(ctx: RuleContext, value: cst.BaseExpression) -> str | _Unknown | None:
    if isinstance(value, cst.Name):
        value = ctx.value_of(value.value) or value
    if not (isinstance(value, cst.Call) and names.last_name(value.func) == "MetaData"):
        return UNKNOWN
    for arg in value.args:
        if arg.star:
            return UNKNOWN
        if arg.keyword is not None and arg.keyword.value == "schema":
            return _string(ctx, arg.value)
    return None


def _string(ctx: RuleContext, value: cst.BaseExpression) -> str | _Unknown | None:
    """A string literal, a module-level string constant, None, or UNKNOWN."""
    if isinstance(value, cst.Name):
        if value.value == "None":
            return None
        constant = ctx.summary.strings.get(value.value)
        return constant if constant is not None else UNKNOWN
    text = names.string_value(value)
    return text if text is not None else UNKNOWN


# -- one class statement -------------------------------------------------------------------


def _statements(node: cst.ClassDef) -> list[cst.CSTNode]:
    block = node.body
    return [block] if isinstance(block, cst.SimpleStatementSuite) else list(block.body)


def _read_body(ctx: RuleContext, node: cst.ClassDef) -> _Body:
    body = _Body()
    owner = node.name.value
    for stmt in _statements(node):
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in stmt.body:
                if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
                    _attribute(ctx, body, owner, small.targets[0].target, None, small.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    _attribute(ctx, body, owner, small.target, small.annotation.annotation, small.value)
                elif not isinstance(small, (cst.Expr, cst.Pass, cst.Import, cst.ImportFrom)):
                    body.complete = False
        elif isinstance(stmt, cst.FunctionDef):
            _method(body, stmt)
        elif isinstance(stmt, cst.ClassDef):
            body.bound.add(stmt.name.value)
        else:  # if/for/try/with in a class body: anything may be bound
            body.complete = False
    return body


def _method(body: _Body, node: cst.FunctionDef) -> None:
    name = node.name.value
    body.bound.add(name)
    decorators = {names.dotted(d.decorator) or "" for d in node.decorators}
    if not any("declared_attr" in d.split(".") for d in decorators):
        return  # a method, property or hybrid: no column of the table
    if name == "__tablename__":
        body.tablename = UNKNOWN
    elif name == "__table_args__":
        body.schema = UNKNOWN
    elif name == "__mapper_args__":
        body.polymorphic = True
    else:
        body.complete = False  # a declared_attr may return a column


def _attribute(
    ctx: RuleContext,
    body: _Body,
    owner: str,
    target: cst.Name,
    annotation: cst.BaseExpression | None,
    value: cst.BaseExpression | None,
) -> None:
    name = target.value
    body.bound.add(name)
    if name in _DIRECTIVES or name in _BASE_SETTINGS:
        _directive(ctx, body, name, value)
        return
    if name.startswith("__") or (annotation is not None and _outer(annotation) == "ClassVar"):
        return
    mapped = annotation is not None and _outer(annotation) == "Mapped"
    if value is None:
        if mapped:
            body.columns.append(_column(ctx, name, target, owner, None, annotation))
        return
    calls = _column_calls(value)
    if calls is None:
        # Not recognisably a column nor not one: a helper's result, a shared Column object.
        if mapped or isinstance(value, (cst.Call, cst.Name, cst.Attribute)):
            body.complete = False
        return
    composite = names.last_name(value.func) == "composite" if isinstance(value, cst.Call) else False
    for call in calls:
        body.columns.append(_column(ctx, name, target, owner, call, None if composite else annotation))


def _directive(ctx: RuleContext, body: _Body, name: str, value: cst.BaseExpression | None) -> None:
    if name == "__tablename__":
        text = names.string_value(value)
        body.tablename = text if text is not None else UNKNOWN
        body.tablename_node = value
    elif name == "__abstract__":
        body.abstract = isinstance(value, cst.Name) and value.value == "True"
    elif name == "__table__":
        body.has_table = True
    elif name == "__table_args__" and value is not None:
        body.schema = _table_args_schema(ctx, value)
    elif name == "__mapper_args__" and value is not None:
        keys = [names.string_value(e.key) for e in value.elements] if isinstance(value, cst.Dict) else [None]
        body.polymorphic = any(k is None or k.startswith("polymorphic") for k in keys)
    elif name == "metadata" and value is not None:
        body.metadata_schema = _metadata_schema(ctx, value)


def _table_args_schema(ctx: RuleContext, value: cst.BaseExpression) -> str | _Unknown | None:
    """The ``schema`` of ``__table_args__``: a dict, or a tuple that may end with one."""
    if isinstance(value, cst.Tuple):
        last = value.elements[-1].value if value.elements else None
        if not isinstance(last, cst.Dict):
            return None
        value = last
    if not isinstance(value, cst.Dict):
        return UNKNOWN
    for element in value.elements:
        if not isinstance(element, cst.DictElement):
            return UNKNOWN  # **other_args
        if names.string_value(element.key) == "schema":
            return _string(ctx, element.value)
    return None


def _column_calls(value: cst.BaseExpression) -> list[cst.Call] | None:
    """The Column/mapped_column calls an attribute's value maps: [] for a relationship or
    another non-column; None when unknown."""
    if not isinstance(value, cst.Call):
        return [] if not isinstance(value, (cst.Name, cst.Attribute)) else None
    func = names.last_name(value.func)
    if func in _COLUMN_FACTORIES:
        return [value]
    first = value.args[0].value if value.args and value.args[0].keyword is None and not value.args[0].star else None
    if func in _COLUMN_WRAPPERS and isinstance(first, cst.Call) and names.last_name(first.func) in _COLUMN_FACTORIES:
        return [first]
    if func == "composite":
        found = [
            arg.value
            for arg in value.args
            if isinstance(arg.value, cst.Call) and names.last_name(arg.value.func) in _COLUMN_FACTORIES
        ]
        # Its columns must be named: the attribute is the composite's, not a column's.
        return found if found and all(_column_name(call) is not None for call in found) else None
    if func in _NOT_COLUMNS:
        return []
    return None


def _column_name(call: cst.Call) -> str | None:
    """The name a Column/mapped_column call gives its column (first positional string, or ``name=``)."""
    for i, arg in enumerate(call.args):
        if arg.keyword is not None and arg.keyword.value == "name":
            return names.string_value(arg.value)
        if i == 0 and arg.keyword is None:
            text = names.string_value(arg.value)
            if text is not None:
                return text
    return None


def _column(
    ctx: RuleContext,
    attribute: str,
    target: cst.Name,
    owner: str,
    call: cst.Call | None,
    annotation: cst.BaseExpression | None,
) -> ModelColumn:
    inner = _mapped_type(annotation) if annotation is not None and _outer(annotation) == "Mapped" else None
    args = list(call.args) if call is not None else []
    alias_call = _annotated_column(ctx, inner) if inner is not None else None
    if alias_call is not None:
        args = [*alias_call.args, *args]  # later keywords win: the attribute's own
    primary_key: bool | None = False
    nullable: bool | None = None
    explicit_nullable = False
    has_default = False
    for arg in args:
        if arg.star:
            primary_key = None
            has_default = True  # **kwargs may hold anything; stay silent
        elif arg.keyword is None:
            if isinstance(arg.value, cst.Call) and names.last_name(arg.value.func) in _DATABASE_DEFAULTS:
                has_default = True
        elif arg.keyword.value == "primary_key":
            primary_key = _literal_bool(arg.value)
        elif arg.keyword.value == "nullable":
            nullable = _literal_bool(arg.value)
            explicit_nullable = True
        elif arg.keyword.value in _DEFAULT_KEYWORDS:
            has_default = has_default or not (isinstance(arg.value, cst.Name) and arg.value.value == "None")
    if not explicit_nullable:
        if primary_key is None:
            nullable = None
        elif primary_key:
            nullable = False
        elif inner is not None:
            nullable = _optional(ctx, inner)
        else:
            nullable = True  # Column() and an unannotated mapped_column() are nullable by default
    name = (_column_name(call) if call is not None else None) or attribute
    return ModelColumn(attribute, name, target, owner, nullable, has_default, bool(primary_key))


def _literal_bool(value: cst.BaseExpression) -> bool | None:
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value == "True"
    return None


# -- annotations -------------------------------------------------------------------------


def _parsed(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    """The annotation, with a string annotation parsed."""
    if isinstance(annotation, (cst.SimpleString, cst.ConcatenatedString)):
        text = names.string_value(annotation)
        try:
            return cst.parse_expression(text) if text else None
        except cst.ParserSyntaxError:
            return None
    return annotation


def _outer(annotation: cst.BaseExpression) -> str | None:
    """``Mapped`` for ``Mapped[int]`` / ``"Mapped[int]"`` / ``orm.Mapped[int]``."""
    parsed = _parsed(annotation)
    if isinstance(parsed, cst.Subscript):
        return names.last_name(parsed.value)
    return names.last_name(parsed) if parsed is not None else None


def _mapped_type(annotation: cst.BaseExpression) -> cst.BaseExpression | None:
    parsed = _parsed(annotation)
    if isinstance(parsed, cst.Subscript) and len(parsed.slice) == 1 and isinstance(parsed.slice[0].slice, cst.Index):
        return _parsed(parsed.slice[0].slice.value)
    return None


def _type_alias(ctx: RuleContext, expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """What a module-level alias such as ``intpk = Annotated[int, mapped_column(...)]`` stands for."""
    if isinstance(expr, cst.Name) and expr.value in ctx.summary.defined and expr.value not in ctx.summary.classes:
        value = ctx.value_of(expr.value)
        if isinstance(value, cst.Subscript | cst.BinaryOperation):
            return value
    return None


def _annotated_column(ctx: RuleContext, inner: cst.BaseExpression) -> cst.Call | None:
    """The mapped_column() of ``Annotated[X, mapped_column(...)]`` (directly or through an alias)."""
    annotated = _type_alias(ctx, inner) or inner
    if isinstance(annotated, cst.Subscript) and names.last_name(annotated.value) == "Annotated":
        for element in annotated.slice[1:]:
            value = element.slice.value if isinstance(element.slice, cst.Index) else None
            if isinstance(value, cst.Call) and names.last_name(value.func) == "mapped_column":
                return value
    return None


def _optional(ctx: RuleContext, expr: cst.BaseExpression, depth: int = 0) -> bool | None:
    """Whether a ``Mapped[...]`` type admits None; None when an alias hides it."""
    parsed = _parsed(expr)
    if parsed is None or depth > 5:
        return None
    if isinstance(parsed, cst.Name) and parsed.value == "None":
        return True
    if isinstance(parsed, cst.BinaryOperation) and isinstance(parsed.operator, cst.BitOr):
        sides = [_optional(ctx, parsed.left, depth + 1), _optional(ctx, parsed.right, depth + 1)]
        return True if True in sides else (None if None in sides else False)
    if isinstance(parsed, cst.Subscript):
        head = names.last_name(parsed.value)
        args = [e.slice.value for e in parsed.slice if isinstance(e.slice, cst.Index)]
        if head == "Optional":
            return True
        if head == "Union":
            sides = [_optional(ctx, a, depth + 1) for a in args]
            return True if True in sides else (None if None in sides else False)
        if head == "Annotated" and args:
            return _optional(ctx, args[0], depth + 1)
        return False  # list[int], dict[str, Any]: a value, never None
    alias = _type_alias(ctx, parsed)
    if alias is not None:
        return _optional(ctx, alias, depth + 1)
    qualname = ctx.qualified_name(parsed) if isinstance(parsed, (cst.Name, cst.Attribute)) else None
    if qualname is not None and _project_non_class(ctx, qualname):
        return None  # a name another project module defines that is no class: an alias
    return False


def _project_non_class(ctx: RuleContext, qualname: str) -> bool:
    module, _, name = ctx.index.resolve(qualname).rpartition(".")
    summary = ctx.index.module(module) if module else None
    return summary is not None and name not in summary.classes


# -- rule examples -----------------------------------------------------------------------

# What `metadata.create_all()` would have made of the examples' models on SQLite, plus a view.
EXAMPLE_DATABASE = """
CREATE TABLE authors (
    id INTEGER NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    email VARCHAR(200)
);
CREATE TABLE articles (
    id INTEGER NOT NULL PRIMARY KEY,
    title VARCHAR(200) NOT NULL,
    slug VARCHAR(200) NOT NULL,
    content TEXT,
    status VARCHAR(20) NOT NULL DEFAULT 'draft',
    author_id INTEGER REFERENCES authors (id),
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE editors (
    id INTEGER NOT NULL PRIMARY KEY REFERENCES authors (id),
    desk VARCHAR(50)
);
CREATE VIEW published_articles AS SELECT id, title FROM articles WHERE status = 'published';
"""
