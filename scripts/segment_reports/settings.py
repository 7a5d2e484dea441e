"""Local settings: the dbt vars every run of this checkout uses.

`settings.yml` in the project (or the file named by $SEGMENT_REPORTS_SETTINGS)
is a YAML mapping of dbt vars, for example `segment_schemas: [production, ios]`.
`segment-reports run` and `segment-reports dbt` pass it to dbt as `--vars`,
merged with any `--vars` given on the command line (the command line wins per
key). Only vars declared under `vars:` in dbt_project.yml are accepted, so a
typo fails loudly instead of being ignored. The file is not committed (each
deployment has its own); settings.example.yml documents it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

SETTINGS_ENV = "SEGMENT_REPORTS_SETTINGS"
FILE_NAME = "settings.yml"
HEADER = (
    "# dbt vars for `segment-reports run` and `segment-reports dbt` (see\n"
    "# settings.example.yml); `segment-reports settings set KEY VALUE` rewrites it.\n"
)


class SettingsError(ValueError):
    """An unreadable settings file, an unknown var or a value that is not YAML."""


def settings_path(project: Path) -> Path:
    """$SEGMENT_REPORTS_SETTINGS, else settings.yml in the project."""
    override = os.environ.get(SETTINGS_ENV)
    return Path(override) if override else project / FILE_NAME


def known_vars(project: Path) -> dict[str, Any]:
    """The vars dbt_project.yml declares, with their defaults."""
    path = project / "dbt_project.yml"
    try:
        declared = (yaml.safe_load(path.read_text()) or {}).get("vars") or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read the vars of {path}: {exc}") from None
    return dict(declared)


def _check_key(key: str, known: dict[str, Any], where: str) -> None:
    if key not in known:
        raise SettingsError(
            f"{where}: unknown var '{key}'; known vars (dbt_project.yml): "
            + ", ".join(sorted(known))
        )


def load(path: Path, known: dict[str, Any]) -> dict[str, Any]:
    """The settings in `path` ({} when there is no file); every key a known var."""
    if not path.exists():
        return {}
    try:
        values = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"cannot read settings file {path}: {exc}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise SettingsError(
            f"settings file {path} must be a YAML mapping of dbt vars, "
            f"not a {type(values).__name__}"
        )
    for key in values:
        _check_key(str(key), known, f"settings file {path}")
    return values


def parse_value(text: str) -> Any:
    """A value as YAML: `[production, ios]` is a list, `30` a number."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SettingsError(f"value {text!r} is not valid YAML: {exc}") from None


def set_value(path: Path, known: dict[str, Any], key: str, text: str) -> Any:
    """Store `key` (a known var) with the YAML value `text`; returns the value."""
    _check_key(key, known, "settings set")
    values = load(path, known)
    values[key] = parse_value(text)
    path.write_text(
        HEADER + yaml.safe_dump(values, sort_keys=False, default_flow_style=None)
    )
    return values[key]


def parse_vars(text: str) -> dict[str, Any]:
    """The mapping of a `--vars` argument."""
    value = parse_value(text)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SettingsError(f"--vars {text!r} must be a YAML mapping")
    return value


def render_vars(values: dict[str, Any]) -> str:
    """One-line YAML for dbt's `--vars`."""
    return yaml.safe_dump(values, default_flow_style=True, width=1 << 30).strip()


def with_vars(args: list[str], settings: dict[str, Any]) -> list[str]:
    """dbt arguments with one `--vars`: the settings, then the command line's.

    A `--vars` in `args` (as `--vars X` or `--vars=X`) is replaced where it
    stands by the merged mapping; otherwise one is appended when there are
    settings.
    """
    merged = dict(settings)
    out: list[str] = []
    position = None
    rest = iter(args)
    for arg in rest:
        if arg == "--vars" or arg.startswith("--vars="):
            text = arg.split("=", 1)[1] if "=" in arg else next(rest, None)
            if text is None:
                raise SettingsError("--vars needs a value")
            merged.update(parse_vars(text))
            if position is None:
                position = len(out)
                out += ["--vars", ""]
            continue
        out.append(arg)
    if position is None:
        return [*out, "--vars", render_vars(merged)] if merged else out
    if merged:
        out[position + 1] = render_vars(merged)
    else:
        del out[position : position + 2]
    return out
