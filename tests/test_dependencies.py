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
