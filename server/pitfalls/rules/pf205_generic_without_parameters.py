"""PF205: a generic project class subclassed without its type parameters, or with the
wrong number of them."""

from __future__ import annotations

import libcst as cst

from pitfalls.rules._bases import argument_count, class_bases, type_parameters, with_defaults
from pitfalls.rules.api import Invalid, Rule, Severity, Valid

_FRAMEWORK = {
    "app/__init__.py": "",
    "app/framework/__init__.py": "",
    "app/framework/services.py": """
        from typing import Generic, TypeVar

        from pydantic import BaseModel
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.framework.base import CompanyBaseModel

        ModelT = TypeVar("ModelT", bound=CompanyBaseModel)
        CreateT = TypeVar("CreateT", bound=BaseModel)
        UpdateT = TypeVar("UpdateT", bound=BaseModel)


        class CompanyBusinessObjectService(Generic[ModelT, CreateT, UpdateT]):
            def __init__(self, db: AsyncSession, model: type[ModelT]):
                self.db = db
                self.model = model
    """,
    "app/services/__init__.py": "",
}
_IMPORTS = """
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.framework.services import CompanyBusinessObjectService
            from app.models.partner import Partner
            from app.schemas.partner import PartnerCreate, PartnerUpdate
"""


class GenericWithoutParameters(Rule):
    """
    ## What it does
    Reports a class whose direct base is a project class generic in TypeVars, such as
    `CompanyBusinessObjectService(Generic[ModelT, CreateT, UpdateT])`, written without a
    subscript or with another number of type arguments than the class has parameters.

    A class is generic in the TypeVars of its `Generic[...]` (or `Protocol[...]`) base,
    else in those its subscripted bases mention (`PartnerServiceBase(
    CompanyBusinessObjectService[Partner, CreateT, UpdateT])` takes two), wherever the
    project defines the TypeVars. A subclass of a class that already fixed them
    (`class PartnerService(BasePartnerService)`) is fine, and so is a subscript that keeps
    the class generic with the right number of TypeVars. Classes outside the project,
    `Generic[T]` and `Protocol[T]` themselves, and generics whose arity cannot be known
    (a `ParamSpec` or `TypeVarTuple` parameter) are left alone. A pydantic model subclassed
    bare is too: pydantic keeps the subclass generic. So is a base named through a
    variable, as in `if TYPE_CHECKING: _Base = Service[Model] else: _Base = Service`:
    the type checker sees the subscripted alias. TypeVars declared with a default (PEP 696,
    `TypeVar("T", default=int)`, Python 3.13 or `typing_extensions`) may be left out.

    ## Why is this bad?
    With the wrong number of arguments the class statement fails when the module is
    imported:

    ```
    TypeError: Too few arguments for <class 'app.framework.services.CompanyBusinessObjectService'>; actual 1, expected 3
    ```

    (the end of the message varies with the Python version). Without a subscript nothing
    fails: the subclass silently stops being generic, `self.model` and the schemas of the
    inherited methods are no longer `Partner` and `PartnerCreate` to the type checker and
    the IDE, and the mistakes they would catch pass. The business object guide's Issue 7
    asks to "include all three generic types". That case is reported as a warning; the
    wrong count, as an error.

    ## Example
    ```python
    class PartnerService(CompanyBusinessObjectService):
        def __init__(self, db: AsyncSession):
            super().__init__(db, Partner)
    ```

    ## Use instead
    ```python
    class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
        def __init__(self, db: AsyncSession):
            super().__init__(db, Partner)
    ```

    ## Fix safety
    There is no automatic fix: only the author knows the model and schema types.
    """

    code = "PF205"
    function_local = True  # see Rule.function_local
    name = "generic-without-parameters"
    summary = "Generic project class subclassed without its type parameters"
    exact_on_ast_tree = True

    VALID = [
        # PEP 696: TypeVars with defaults may be left out (Python 3.13, typing_extensions).
        Valid("""
            from typing import Generic

            from typing_extensions import TypeVar

            from app.models import Partner

            ModelT = TypeVar("ModelT")
            SchemaT = TypeVar("SchemaT", default=dict)

            class Repository(Generic[ModelT, SchemaT]):
                pass

            class PartnerRepository(Repository[Partner]):
                pass

            class RawRepository(Repository[Partner, bytes]):
                pass
        """, files={"app/__init__.py": "", "app/models.py": "class Partner:\n    pass\n"}, path="app/repositories.py"),
        Valid("""
            from typing import Generic

            from typing_extensions import TypeVar

            T = TypeVar("T", default=int)

            class Box(Generic[T]):
                pass

            class IntBox(Box):
                pass
        """),
        # The guide's Issue 7 solutions.
        Valid(
            _IMPORTS
            + """

            class PartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                def __init__(self, db: AsyncSession):
                    super().__init__(db, Partner)


            class ContactService(CompanyBusinessObjectService[
                Partner,        # Model type
                PartnerCreate,  # Create schema type
                PartnerUpdate   # Update schema type
            ]):
                pass
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
        ),
        # A subclass of a class that already fixed the parameters.
        Valid(
            """
            from app.services.partner_service import BasePartnerService


            class PartnerService(BasePartnerService):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/services/partner_service.py": """
                    from app.framework.services import CompanyBusinessObjectService
                    from app.models.partner import Partner
                    from app.schemas.partner import PartnerCreate, PartnerUpdate


                    class BasePartnerService(CompanyBusinessObjectService[Partner, PartnerCreate, PartnerUpdate]):
                        pass
                """,
            },
            path="app/services/custom.py",
        ),
        # Still generic, with the right count: TypeVars from another module, a partial
        # specialisation, a parenthesised tuple of arguments.
        Valid(
            """
            from app.framework.services import CompanyBusinessObjectService
            from app.framework.types import CreateT, ModelT, UpdateT
            from app.models.partner import Partner
            from app.schemas.partner import PartnerCreate, PartnerUpdate


            class ScopedService(CompanyBusinessObjectService[ModelT, CreateT, UpdateT]):
                pass


            class PartnerServiceBase(ScopedService[Partner, CreateT, UpdateT]):
                pass


            class PartnerService(PartnerServiceBase[PartnerCreate, PartnerUpdate]):
                pass


            class PartnerReadService(ScopedService[(Partner, PartnerCreate, PartnerUpdate)]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/types.py": """
                    from typing import TypeVar

                    ModelT = TypeVar("ModelT")
                    CreateT = TypeVar("CreateT")
                    UpdateT = TypeVar("UpdateT")
                """,
            },
            path="app/services/scoped.py",
        ),
        # `Generic[T]` and `Protocol[T]` themselves, a bare pydantic generic model (still
        # generic), an unknown arity, a generic class outside the project.
        Valid(
            """
            from typing import Callable, Generic, ParamSpec, Protocol, TypeVar

            from advanced_alchemy.repository import SQLAlchemyAsyncRepository
            from pydantic import BaseModel

            T = TypeVar("T")
            P = ParamSpec("P")


            class Page(BaseModel, Generic[T]):
                items: list[T]


            class PartnerPage(Page):
                total: int


            class Repository(Protocol[T]):
                async def get(self, id: int) -> T: ...


            class Hook(Generic[P, T]):
                def __init__(self, func: Callable[P, T]) -> None:
                    self.func = func


            class AuditHook(Hook):
                pass


            class PartnerRepository(SQLAlchemyAsyncRepository):
                pass
            """,
        ),
    ]
    INVALID = [
        # Defaults do not make a required parameter optional.
        Invalid("""
            from typing import Generic

            from typing_extensions import TypeVar

            ModelT = TypeVar("ModelT")
            CreateT = TypeVar("CreateT")
            SchemaT = TypeVar("SchemaT", default=dict)

            class Repository(Generic[ModelT, CreateT, SchemaT]):
                pass

            class PartnerRepository(Repository[int]):
                pass
        """, line=12, message="takes 2 to 3"),
        # The guide's Issue 7 diagnosis.
        Invalid(
            _IMPORTS
            + """

            class PartnerService(CompanyBusinessObjectService):
                def __init__(self, db: AsyncSession):
                    super().__init__(db, Partner)
            """,
            files=_FRAMEWORK,
            path="app/services/partner_service.py",
            line=8,
            message="without its type parameters (ModelT, CreateT, UpdateT)",
        ),
        # Too few arguments, through a package re-export.
        Invalid(
            """
            from app.framework import CompanyBusinessObjectService
            from app.models.partner import Partner


            class PartnerService(CompanyBusinessObjectService[Partner]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/__init__.py": "from app.framework.services import CompanyBusinessObjectService\n",
            },
            path="app/services/partner_service.py",
            line=5,
            message="passes 1 type argument",
        ),
        # A partial specialisation in another file, subscripted with too few; a
        # pydantic generic model with too many.
        Invalid(
            """
            from app.schemas.page import Page
            from app.schemas.partner import PartnerCreate, PartnerRead
            from app.services.base import PartnerServiceBase


            class PartnerService(PartnerServiceBase[PartnerCreate]):
                pass


            class PartnerPage(Page[PartnerRead, int]):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/schemas/__init__.py": "",
                "app/schemas/page.py": """
                    from typing import Generic, List, TypeVar

                    from pydantic import BaseModel

                    ItemT = TypeVar("ItemT")


                    class Page(BaseModel, Generic[ItemT]):
                        items: List[ItemT]
                """,
                "app/services/base.py": """
                    from app.framework.services import CompanyBusinessObjectService, CreateT, UpdateT
                    from app.models.partner import Partner


                    class PartnerServiceBase(CompanyBusinessObjectService[Partner, CreateT, UpdateT]):
                        pass
                """,
            },
            path="app/services/partner_service.py",
            count=2,
        ),
        # TypeVars from another module; a class without `Generic[...]`, generic through
        # a subscripted base; bare and nested in an `Optional`.
        Invalid(
            """
            from typing import Optional

            from app.framework.types import ModelT
            from app.framework.repository import Repository


            class CachedRepository(Repository[Optional[ModelT]]):
                pass


            class PartnerRepository(CachedRepository):
                pass
            """,
            files={
                **_FRAMEWORK,
                "app/framework/types.py": """
                    from typing import TypeVar

                    ModelT = TypeVar("ModelT")
                """,
                "app/framework/repository.py": """
                    from typing import Generic

                    from app.framework.types import ModelT


                    class Repository(Generic[ModelT]):
                        pass
                """,
            },
            path="app/framework/cached.py",
            line=11,
        ),
    ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if not node.bases:
            return
        bases = class_bases(self.ctx, node)
        if bases is None:
            return
        view = self.ctx.index
        for base in bases:
            params = type_parameters(view, base.qualname) if base.qualname is not None else None
            if not params or self.ctx.value_of(base.written.partition(".")[0]) is not None:
                continue  # not generic, or named through a variable (see the docstring)
            defaults = with_defaults(view, base.qualname or "", params)
            required = len(params) - len(defaults)  # PEP 696: defaults come last
            if base.subscript is None:
                if view.is_pydantic_model(base.qualname or "") or not required:
                    continue
                self.ctx.report(
                    node.name,
                    f"`{base.written}` subclassed without its type parameters ({', '.join(params)}): "
                    f"`{node.name.value}` silently stops being generic",
                    severity=Severity.WARNING,
                )
                continue
            count = argument_count(base.subscript)
            if count is not None and not required <= count <= len(params):
                takes = f"{required} to {len(params)}" if defaults else f"{len(params)}"
                self.ctx.report(
                    node.name,
                    f"`{base.written}[...]` passes {count} type argument{'s' if count != 1 else ''}, "
                    f"`{base.written}` takes {takes} ({', '.join(params)}): TypeError: Too "
                    f"{'few' if count < required else 'many'} arguments at import",
                )
