"""Settings: defaults, the YAML file, and errors that name the key."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from portalgen.config import load_settings, setting_keys
from portalgen.errors import ConfigError
from portalgen.presentation.resources import example_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.locale == "es_ES"
    assert settings.gate.link_max_age == timedelta(days=30)
    assert settings.storage_location() == (tmp_path / "site").resolve().as_uri()
    assert settings.publish.cache_dir == tmp_path / ".portalgen-cache"


def test_values_and_relative_paths(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
company: {name: Ferretería Pepe, logo: img/logo.png, tax_id: B98765431}
gate: {link_max_age: 7d, session_idle: 30m}
storage: {url: s3://my-bucket/portals, endpoint_url: "http://127.0.0.1:8333"}
audit: {path: logs/audit.jsonl}
""",
    )
    settings = load_settings(path, environ={})
    assert settings.company.logo == tmp_path / "img" / "logo.png"
    assert settings.audit.path == tmp_path / "logs" / "audit.jsonl"
    assert settings.gate.link_max_age == timedelta(days=7)
    assert settings.gate.session_idle == timedelta(minutes=30)
    assert settings.storage_location() == "s3://my-bucket/portals"
    assert settings.secret_file == tmp_path / "secret.key"


def test_environment_names_the_file_and_overrides_win(tmp_path: Path) -> None:
    path = write(tmp_path, "locale: en_GB\n")
    settings = load_settings(environ={"PORTALGEN_CONFIG": str(path)}, overrides={"currency": "USD"})
    assert (settings.locale, settings.currency) == ("en_GB", "USD")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("compnay: {name: x}\n", "compnay: unknown key (did you mean company?)"),
        ("gate: {link_max_age: soon}\n", "gate.link_max_age: expected a duration like 30d"),
        (
            "gate: {link_max_ages: 3d}\n",
            "gate.link_max_ages: unknown key (did you mean gate.link_max_age?)",
        ),
        ("theme: {primary_color: blue}\n", "theme.primary_color: expected a colour like #1d4ed8"),
        ("portal: {pdf: pretty}\n", "portal.pdf: expected one of 'original', 'render'"),
        ("portal: {sections: {quotes: maybe}}\n", "portal.sections.quotes: expected true or false"),
        ("publish: {jobs: many}\n", "publish.jobs: expected a whole number"),
        ("locale: klingon\n", "locale: expected a locale like es_ES"),
        ("currency: EURO\n", "currency: expected an ISO 4217 currency code"),
        ("timezone: Mars/Olympus\n", "timezone: expected a time zone"),
        ("payments: {iban: ES00 1234}\n", "payments.iban: 'ES00 1234' is not a valid IBAN"),
        (
            "company: {tax_id: B12345678}\n",
            "company.tax_id: 'B12345678' is not a valid Spanish NIF",
        ),
        ("gate: {base_url: portal.example.com}\n", "gate.base_url: expected a URL"),
        ("storage: {url: ftp://host/x}\n", "storage.url: expected a folder, file://path or s3://"),
        ("storage: {url: s3://UPPER}\n", "storage.url: expected s3://bucket/prefix"),
        ("company: [a, b]\n", "company: expected a group of keys"),
        ("- just\n- a list\n", "expected keys like 'company:'"),
        ("company: {name: [unclosed\n", "not valid YAML"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert message in str(info.value)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="portalgen init"):
        load_settings(tmp_path / "nope.yaml", environ={})


def test_the_example_config_loads_and_documents_every_key() -> None:
    text = example_config().read_text(encoding="utf-8")
    settings = load_settings(example_config(), environ={})
    assert settings.portal.pdf == "original"
    documented = set()
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        match = re.match(r"^(\s*)([a-z_]+):", line)
        if not match:
            continue
        indent = len(match.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = ".".join([k for _, k in stack] + [match.group(2)])
        documented.add(key)
        stack.append((indent, match.group(2)))
    missing = [k for k in setting_keys() if k not in documented]
    assert missing == []
