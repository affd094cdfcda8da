"""PF402: `e.errors` of a caught pydantic ValidationError used without calling it."""

from __future__ import annotations

import libcst as cst

from pitfalls.core.semantic import BindingMark
from pitfalls.rules.api import Applicability, Invalid, NodeEdit, Rule, RuleContext, Valid

_VALIDATION_ERRORS = frozenset(
    {
        "pydantic.ValidationError",
        "pydantic_core.ValidationError",
        "pydantic_core._pydantic_core.ValidationError",
        "pydantic.error_wrappers.ValidationError",
        "pydantic.v1.ValidationError",
        "pydantic.v1.error_wrappers.ValidationError",
    }
)


class ErrorsNotCalled(Rule):
    """
    ## What it does
    Reports `e.errors` used without being called, where `e` is the name bound by
    `except ValidationError as e:` and `ValidationError` is pydantic's (v1 or v2, imported
    from `pydantic`, `pydantic_core` or through a project module that re-exports it).

    Other exception types are left alone: `except MyError as e: e.errors` may well read a
    list attribute.

    ## Why is this bad?
    `errors` is a method of pydantic's `ValidationError`. Without the call, `e.errors` is
    the bound method, so the business object guide's diagnosis snippet
    `[error['loc'] for error in e.errors]` fails inside the `except` block, replacing the
    validation error it meant to show with

    ```
    TypeError: 'method' object is not iterable
    ```

    (`'builtin_function_or_method' object is not iterable` with pydantic v2). Printing or
    serialising it shows `<bound method ...>` instead of the errors, and `if e.errors:` is
    always true.

    ## Example
    ```python
    from pydantic import ValidationError

    try:
        partner = PartnerCreate(**test_data)
    except ValidationError as e:
        print("Missing fields:", [error["loc"] for error in e.errors])
    ```

    ## Use instead
    ```python
    from pydantic import ValidationError

    try:
        partner = PartnerCreate(**test_data)
    except ValidationError as e:
        print("Missing fields:", [error["loc"] for error in e.errors()])
    ```

    ## Fix safety
    The fix adds the call: `e.errors()`. It is safe: the bound method is only useful when
    called, and the uses reported (iterating, indexing, printing, testing it) are bugs.
    The one use that is not, handing the method itself to code that calls it later
    (`on_error=e.errors`), is reported too; suppress it with `# noqa: PF402`.
    """

    code = "PF402"
    function_local = True  # see Rule.function_local
    name = "errors-not-called"
    summary = "`errors` of a pydantic ValidationError used without calling it"
    exact_on_ast_tree = True
    fix_applicability = Applicability.SAFE

    VALID = [
        # The guide's Issue 5, solution 3.
        Valid("""
            from pydantic import ValidationError

            try:
                schema = PartnerCreate(**data)
            except ValidationError as e:
                for error in e.errors():
                    print(f"Field: {error['loc']}")
                    print(f"Error: {error['msg']}")
        """),
        # Other exceptions with an `errors` attribute.
        Valid("""
            from app.exceptions import ImportFailed
            from marshmallow import ValidationError

            try:
                run()
            except ImportFailed as e:
                print(len(e.errors))
            try:
                schema.load(data)
            except ValidationError as err:
                return err.messages, err.errors
        """),
        # `e.errors` outside the handler, on another name, or after `e` is rebound by an
        # inner handler of another type.
        Valid("""
            from pydantic import ValidationError

            def check(report, data):
                try:
                    PartnerCreate(**data)
                except ValidationError as e:
                    try:
                        publish(e.errors())
                    except PublishError as e:
                        log(e.errors)
                    print(report.errors)
                return report.errors
        """),
        # `e` rebound in the handler: by a lambda's parameter, then by an assignment.
        Valid("""
            from pydantic import ValidationError

            def load(rows):
                try:
                    return [Partner(**row) for row in rows]
                except ValidationError as e:
                    report(e.errors(), key=lambda e: e.errors)
                    e = ImportReport(e.errors())
                    return e.errors
        """),
        # A tuple of exception types that are not all pydantic's.
        Valid("""
            from pydantic import ValidationError
            from app.exceptions import BatchError

            try:
                load()
            except (ValidationError, BatchError) as e:
                print(e.errors)
        """),
        # Unresolved `ValidationError` (not imported in this file).
        Valid("""
            try:
                partner = PartnerCreate(**test_data)
            except ValidationError as e:
                print([error['loc'] for error in e.errors])
        """),
    ]
    INVALID = [
        # The business object guide's Issue 5 diagnosis.
        Invalid(
            """
            from pydantic import ValidationError
            from app.schemas.partner import PartnerCreate

            test_data = {"name": "Test Partner", "email": "test@partner.com"}

            try:
                partner = PartnerCreate(**test_data)
                print("Schema validation passed")
            except ValidationError as e:
                print(f"Schema validation failed: {e}")
                print("Missing fields:", [error['loc'] for error in e.errors])
            """,
            line=11,
            fixed="""
            from pydantic import ValidationError
            from app.schemas.partner import PartnerCreate

            test_data = {"name": "Test Partner", "email": "test@partner.com"}

            try:
                partner = PartnerCreate(**test_data)
                print("Schema validation passed")
            except ValidationError as e:
                print(f"Schema validation failed: {e}")
                print("Missing fields:", [error['loc'] for error in e.errors()])
            """,
        ),
        # pydantic v1 and pydantic_core spellings, a module import, a tuple of both.
        Invalid(
            """
            import pydantic
            import pydantic_core
            from pydantic.error_wrappers import ValidationError as V1Error

            def parse(raw):
                try:
                    return Model.parse_raw(raw)
                except V1Error as exc:
                    return {"detail": exc.errors}
                except (pydantic.ValidationError, pydantic_core.ValidationError) as exc:
                    if exc.errors:
                        return exc.errors[0]
            """,
            count=3,
            fixed="""
            import pydantic
            import pydantic_core
            from pydantic.error_wrappers import ValidationError as V1Error

            def parse(raw):
                try:
                    return Model.parse_raw(raw)
                except V1Error as exc:
                    return {"detail": exc.errors()}
                except (pydantic.ValidationError, pydantic_core.ValidationError) as exc:
                    if exc.errors():
                        return exc.errors()[0]
            """,
        ),
        # Re-exported by a project module; used in a nested function.
        Invalid(
            """
            import json
            from app.errors import ValidationError

            def validate(payload):
                try:
                    return Article(**payload)
                except ValidationError as e:
                    def detail():
                        return json.dumps(e.errors)
                    raise HTTPException(422, detail())
            """,
            files={
                "app/__init__.py": "",
                "app/errors.py": """
                    from pydantic import ValidationError

                    class NotFound(Exception):
                        pass
                """,
            },
            path="app/routes.py",
            line=9,
            fixed="""
            import json
            from app.errors import ValidationError

            def validate(payload):
                try:
                    return Article(**payload)
                except ValidationError as e:
                    def detail():
                        return json.dumps(e.errors())
                    raise HTTPException(422, detail())
            """,
        ),
    ]

    def __init__(self, ctx: RuleContext) -> None:
        super().__init__(ctx)
        # For each enclosing handler: whether it caught a pydantic ValidationError, and where
        # it bound its name (an assignment in the handler rebinds it).
        self._handlers: list[tuple[bool, BindingMark]] = []
        self._called: set[int] = set()  # `x.errors` nodes that are called

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            mark = self.ctx.binding_mark(node.name.name.value)
            self._handlers.append((self._catches_validation_error(node.type), mark))

    def leave_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._handlers.pop()
            if not self._handlers:
                self._called.clear()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._handlers and isinstance(func, cst.Attribute) and func.attr.value == "errors":
            self._called.add(id(func))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if (
            not self._handlers
            or node.attr.value != "errors"
            or not isinstance(node.value, cst.Name)
            or id(node) in self._called
        ):
            return
        name = node.value.value
        for is_validation_error, mark in reversed(self._handlers):
            if mark.name == name:
                if is_validation_error and not self.ctx.rebound_since(mark):
                    self.ctx.report(
                        node,
                        f"`{name}.errors` is a method of pydantic's ValidationError: call it, "
                        f"`{name}.errors()`",
                        fix=self.ctx.fix("Call `errors()`", NodeEdit(node, "()", mode="after")),
                    )
                return

    def _catches_validation_error(self, caught: cst.BaseExpression | None) -> bool:
        """Whether every exception type of an ``except`` clause is pydantic's ValidationError."""
        if caught is None:
            return False
        types = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [caught]
        for expr in types:
            qualname = self.ctx.qualified_name(expr)
            if qualname is None or self.ctx.index.resolve(qualname) not in _VALIDATION_ERRORS:
                return False
        return True
