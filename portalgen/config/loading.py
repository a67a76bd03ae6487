"""Loading the settings: defaults, then config.yaml, then overrides, each key checked
against its dataclass field (an unknown key or a bad value is an error naming the key)."""

from __future__ import annotations

import dataclasses
import difflib
import os
import types
import typing
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import yaml

from portalgen.config.settings import Settings
from portalgen.config.values import parse_duration
from portalgen.errors import ConfigError

CONFIG_ENV = "PORTALGEN_CONFIG"


def load_settings(
    path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then the YAML file at `path` (or $PORTALGEN_CONFIG), then `overrides`.

    `overrides` is a nested mapping like the YAML (tests use it instead of files).
    Relative paths resolve against the config file's folder (or the current folder).
    """
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    data: dict[str, Any] = {}
    if path is not None:
        data = _read_yaml(path)
    if overrides:
        data = _merge(data, overrides)
    base_dir = path.resolve().parent if path is not None else Path.cwd()
    values: Settings = _build(Settings, data, "", base_dir)
    return dataclasses.replace(
        values, config_path=path.resolve() if path is not None else None, base_dir=base_dir
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such configuration file (create one with `portalgen init`)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML: {getattr(exc, 'problem', exc)}"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected keys like 'company:' and 'storage:' at the top level")
    return data


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(cls: type[Any], data: Any, prefix: str, base_dir: Path) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a group of keys")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ConfigError(f"{prefix}{key}: unknown key{hint}")
    values: dict[str, Any] = {}
    for name, f in fields.items():
        key = f"{prefix}{name}"
        if name not in data:
            hint = hints[name]
            if dataclasses.is_dataclass(hint):  # an absent section: its defaults, paths resolved
                values[name] = _build(hint, {}, f"{key}.", base_dir)  # type: ignore[arg-type]
            elif isinstance(f.default, Path) and not f.default.is_absolute():
                values[name] = base_dir / f.default
            continue
        try:
            value = _coerce(hints[name], data[name], key, base_dir)
            if "check" in f.metadata:
                f.metadata["check"](value)
        except ValueError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        values[name] = value
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str, base_dir: Path) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{key}.", base_dir)  # type: ignore[arg-type]
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or value == "":
            return None
        return _coerce(options[0], value, key, base_dir)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value is None:
            value = ""
        if value not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"expected one of {listed}, found {value!r}")
        return value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValueError(f"expected a list, found {value!r}")
        return tuple(_coerce(item, v, key, base_dir) for v in value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, found {value!r}")
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"expected a whole number, found {value!r}")
        return value
    if hint is str:
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            raise ValueError(f"expected text, found a {type(value).__name__}")
        return str(value)
    if hint is Path:
        if not isinstance(value, str) or not value:
            raise ValueError(f"expected a path, found {value!r}")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base_dir / path
    if hint is timedelta:
        return parse_duration(value)
    raise TypeError(f"{key}: unsupported setting type {hint!r}")  # a bug, not user input


def setting_keys(cls: type[Any] = Settings, prefix: str = "") -> list[str]:
    """Every key, dotted (``gate.link_max_age``), for documentation checks."""
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.metadata.get("internal"):
            continue
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            keys.extend(setting_keys(hint, f"{prefix}{f.name}."))  # type: ignore[arg-type]
        else:
            keys.append(f"{prefix}{f.name}")
    return keys
