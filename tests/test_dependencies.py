"""The pydantic major version a file runs on, read from the nearest dependency files."""

from __future__ import annotations

from pathlib import Path

import pytest
from pitfalls.core.settings import Settings
from pitfalls.project.config import ProjectConfig, load_config


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "major"),
    [
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic==1.10.26"]\n'}, 1),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic>=2.5,<3"]\n'}, 2),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic"]\n'}, None),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic<2; python_version>\'3.8\'"]\n'}, 1),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\npydantic = "^1.10"\n'}, 1),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npydantic = {version = "^2.4", extras = ["email"]}\n'}, 2),
        ({"requirements.txt": "# pinned\nfastapi==0.65.2\nuvicorn\n"}, 1),  # FastAPI before 0.100: pydantic 1
        ({"requirements.txt": "fastapi==0.110.0\n"}, None),  # supports both
        ({"requirements-dev.txt": "-r requirements.txt\npydantic~=1.9\n"}, 1),
        ({"setup.cfg": "[options]\ninstall_requires =\n    pydantic>=2\n    httpx\n"}, 2),
        ({"pyproject.toml": "[tool.pitfalls]\n"}, None),  # declares no dependencies
    ],
)
def test_the_nearest_declaration_decides(tmp_path: Path, files: dict[str, str], major: int | None) -> None:
    write(tmp_path, {**files, "app/main.py": ""})
    config = ProjectConfig(Settings(), tmp_path, None)
    assert config.settings_for(tmp_path / "app" / "main.py").pydantic_version == major


def test_a_subproject_has_its_own_pins_and_the_configuration_wins(tmp_path: Path) -> None:
    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["pydantic>=2"]\n',
        "legacy/requirements.txt": "pydantic==1.10.2\n",
        "legacy/app/models.py": "",
        "app/models.py": "",
    })
    config = load_config(None, tmp_path)
    assert config.settings_for(tmp_path / "legacy" / "app" / "models.py").pydantic_version == 1
    assert config.settings_for(tmp_path / "app" / "models.py").pydantic_version == 2
    pinned = load_config(None, tmp_path, {"pydantic-version": 2})
    assert pinned.settings_for(tmp_path / "legacy" / "app" / "models.py").pydantic_version == 2


def test_files_above_the_project_root_are_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"requirements.txt": "pydantic==1.10.2\n", "project/app/models.py": ""})
    config = ProjectConfig(Settings(), tmp_path / "project", None)
    assert config.settings_for(tmp_path / "project" / "app" / "models.py").pydantic_version is None


# -- the modules the declared dependencies provide (PF303) ---------------------------------


def provided(tmp_path: Path, files: dict[str, str], file: str = "app/main.py") -> tuple[str, ...] | None:
    write(tmp_path, {**files, file: ""})
    return ProjectConfig(Settings(), tmp_path, None).settings_for(tmp_path / file).dependency_modules


@pytest.mark.parametrize(
    ("files", "present", "absent"),
    [
        # Every group counts: extras, PEP 735, Poetry's groups, PDM's, uv's and Hatch's.
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = ["httpx"]\n'
          '[project.optional-dependencies]\ncache = ["redis>=5"]\n[dependency-groups]\ndev = ["pytest", {include-group = "x"}]\n'
          '[tool.pdm.dev-dependencies]\nlint = ["ruff"]\n[tool.uv]\ndev-dependencies = ["mypy"]\n'
          '[tool.hatch.envs.default]\ndependencies = ["libcst"]\nextra-dependencies = ["respx"]\n'},
         {"httpx", "redis", "pytest", "ruff", "mypy", "libcst", "respx", "anyio", "certifi"}, {"fastapi"}),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.11"\nPyYAML = "^6"\n'
          '[tool.poetry.group.test.dependencies]\nfactory-boy = "*"\n[tool.poetry.dev-dependencies]\nblack = "*"\n'},
         {"yaml", "pyyaml", "factory_boy", "black"}, {"httpx"}),
        # Names that differ, namespaces and hosts, extras, and what a declared one requires.
        ({"requirements.txt": "python-jose[cryptography]\ngoogle-cloud-storage\nuvicorn[standard]\ndramatiq[redis]\n"
          "fastapi\nPillow\n"},
         {"jose", "cryptography", "google", "uvloop", "redis", "starlette", "pydantic", "pil"}, {"jwt"}),
        ({"setup.cfg": "[options]\ninstall_requires =\n    sqlalchemy-utils\n[options.extras_require]\npg =\n    asyncpg\n"},
         {"sqlalchemy_utils", "sqlalchemy", "asyncpg"}, {"psycopg"}),
    ],
)
def test_declared_distributions_provide_modules(tmp_path: Path, files, present: set[str], absent: set[str]) -> None:
    modules = set(provided(tmp_path, files) or ())
    assert present <= modules and not absent & modules, (present - modules, absent & modules)


@pytest.mark.parametrize(
    "files",
    [
        {},  # no dependency file at all
        {"setup.py": "from setuptools import setup\nsetup(install_requires=['httpx'])\n", "requirements.txt": "httpx\n"},
        {"pyproject.toml": '[project]\nname = "x"\ndynamic = ["dependencies"]\n'},
        {"requirements.txt": "httpx\n-e ./vendor/sdk\n"},
        {"requirements.txt": "git+https://github.com/acme/sdk@v1#egg=sdk\n"},  # not a requirement: anything
        # A plugin's requirements inside a package add to a host that declares nothing.
        {"app/__init__.py": "", "app/plugin/__init__.py": "", "app/plugin/requirements.txt": "httpx\n"},
    ],
)
def test_unknown_declarations_provide_no_answer(tmp_path: Path, files: dict[str, str]) -> None:
    assert provided(tmp_path, files, "app/plugin/main.py") is None


def test_a_plugin_adds_to_its_host_and_tests_are_left_out(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["fastapi"]\n',
        "app/__init__.py": "", "app/plugin/__init__.py": "", "app/plugin/requirements.txt": "authlib\n",
    }
    modules = provided(tmp_path, files, "app/plugin/main.py")
    assert modules is not None and {"fastapi", "authlib"} <= set(modules)
    assert "authlib" not in (provided(tmp_path, files, "app/main.py") or ())
    assert provided(tmp_path, files, "tests/unit/test_main.py") is None


@pytest.mark.parametrize(
    ("files", "drops"),
    [
        ({"setup.py": "from setuptools import setup, find_packages\nsetup(packages=find_packages())\n"}, True),
        ({"setup.py": "from setuptools import setup, find_namespace_packages\nsetup(packages=find_namespace_packages())\n"}, False),
        ({"setup.cfg": "[options]\npackages = find:\ninstall_requires =\n    httpx\n"}, True),
        ({"setup.cfg": "[options]\npackages = find_namespace:\n"}, False),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = []\n[tool.setuptools.packages.find]\nnamespaces = false\n'}, True),
        ({"pyproject.toml": '[project]\nname = "x"\ndependencies = []\n[build-system]\nbuild-backend = "hatchling.build"\n'}, None),
    ],
)
def test_builds_that_leave_out_folders_without_init(tmp_path: Path, files: dict[str, str], drops: bool | None) -> None:
    write(tmp_path, {**files, "app/main.py": ""})
    settings = ProjectConfig(Settings(), tmp_path, None).settings_for(tmp_path / "app" / "main.py")
    assert settings.packages_need_init is (True if drops else None)
