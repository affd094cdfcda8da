"""Editor settings: ``[tool.pitfalls]`` overrides plus the server's own options.

The editor's settings (``initializationOptions`` and ``workspace/configuration``, section
``pitfalls``) take any ``[tool.pitfalls]`` key, camelCase accepted, plus ``run``
(``"onType"``/``"onSave"``). They count as the command line's options: they go over each
file's own configuration through the CLI's :class:`~pitfalls.project.config.ConfigResolver`.
What is checked here is only what names the editor in its errors.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from pitfalls.core.settings import ConfigError, Settings, setting_keys
from pitfalls.project.config import EXTENDING, ConfigResolver, ProjectConfig, validate_table

CONFIG_SECTION = "pitfalls"
RUN_MODES = ("onType", "onSave")
SERVER_KEYS = frozenset({"run"})
_SETTING_KEYS = frozenset(setting_keys()) | {f.name.replace("_", "-") for f in dataclasses.fields(Settings)} | set(EXTENDING)


def _kebab(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "-" + m.group(1).lower(), key).replace("_", "-")


def settings_dict(raw: Any) -> dict[str, Any]:
    """Editor settings as a dict: the object itself, or its ``settings`` member."""
    if not isinstance(raw, dict):
        return {}
    if isinstance(raw.get("settings"), dict):
        return dict(raw["settings"])
    return dict(raw)


def split_settings(raw: Any) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Editor settings to (``[tool.pitfalls]`` overrides, server options, unknown keys).
    Keys may be camelCase; unset (null) values are dropped. Keys the server does not know
    are left out (an extension has settings of its own under the same section)."""
    overrides: dict[str, Any] = {}
    server: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in settings_dict(raw).items():
        if value is None or not isinstance(key, str):
            continue
        if key in SERVER_KEYS:
            server[key] = value
            continue
        name = _kebab(key)
        if name not in _SETTING_KEYS:
            unknown.append(key)
            continue
        if isinstance(value, dict):  # a table (secrets, framework, directus, database): merged key by key
            value = {_kebab(k): v for k, v in value.items() if v is not None}
        overrides[name] = value
    return overrides, server, unknown


def _validate(overrides: dict[str, Any]) -> None:
    """The editor's own values, named as such in the error."""
    try:
        validate_table(overrides, None)
    except ConfigError as exc:
        raise ConfigError(f"editor settings: {str(exc).removeprefix('[tool.pitfalls] ')}") from None


def build_config(root: Path, overrides: dict[str, Any], options: dict[str, Any]) -> tuple[ConfigResolver, str]:
    """Each file's configuration with the editor's settings on top, and the run mode.
    Raises ConfigError naming what is wrong (the editor's settings or the folder's file;
    a file deeper down is read, and its error shown, when the scan meets it)."""
    run = options.get("run", "onType")
    if run not in RUN_MODES:
        raise ConfigError(f"editor settings: 'run' must be one of {', '.join(RUN_MODES)}, not {run!r}")
    if overrides:
        _validate(overrides)
    config = ConfigResolver(overrides, root=root)
    config.folder_config(root)
    return config, run


def fallback_config(root: Path, error: ConfigError) -> tuple[ConfigResolver, list[str]]:
    """The configuration to use when the editor's settings are bad and there is nothing to
    keep: the files' alone, else the defaults; with the further error to show, if any."""
    config = ConfigResolver(root=root)
    try:
        config.folder_config(root)
        return config, []
    except ConfigError as file_exc:
        defaults = ConfigResolver(fixed=ProjectConfig(Settings(), root, None))
        return defaults, [str(file_exc)] if str(file_exc) != str(error) else []


def loose_root(path: str) -> Path:
    """The project of a file outside every workspace folder: the folder of the outermost
    configuration above it (or of its pyproject.toml), else the file's own folder."""
    folder = Path(path).parent
    return ConfigResolver(root=folder).scope(path) or folder
