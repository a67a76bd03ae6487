"""Values with their own parsing in the configuration (durations) and the checks each
setting's value must pass; a failed check names what was expected."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# -- value types with their own parsing ------------------------------------------------------

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    """``30d``, ``12h``, ``15m``, ``90s``, ``2w``; a bare number is seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"expected a duration like 30d, 12h or 15m, found {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def check_color(value: str) -> None:
    if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
        raise ValueError(f"expected a colour like #1d4ed8, found {value!r}")


def check_locale(value: str) -> None:
    # The checks import what they need (Babel, the readers, python-stdnum) only when the
    # key is set: the gate on AWS Lambda loads settings at every cold start.
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(value)
    except (UnknownLocaleError, ValueError):
        raise ValueError(f"expected a locale like es_ES or en_GB, found {value!r}") from None


def check_currency(value: str) -> None:
    from portalgen.domain.formatting import is_currency_code

    if not is_currency_code(value.upper()):
        raise ValueError(f"expected an ISO 4217 currency code like EUR, found {value!r}")


def check_timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"expected a time zone like Europe/Madrid, found {value!r}") from None


def check_iban(value: str) -> None:
    from portalgen.domain.identifiers import iban_problem

    if value and (problem := iban_problem(value)):
        raise ValueError(problem)


def check_tax_id(value: str) -> None:
    from portalgen.domain.identifiers import tax_id_problem

    if value and (problem := tax_id_problem(value)):
        raise ValueError(problem)


def check_url(value: str) -> None:
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError(f"expected a URL starting with http:// or https://, found {value!r}")


def check_optional_url(value: str) -> None:
    if value:
        check_url(value)


def check_positive(value: int) -> None:
    if value < 1:
        raise ValueError(f"expected a number of at least 1, found {value}")


def check_not_negative(value: int) -> None:
    if value < 0:
        raise ValueError(f"expected a number of at least 0, found {value}")


def check_storage_url(value: str) -> None:
    if value.startswith("s3://"):
        if not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?", value):
            raise ValueError(
                f"expected s3://bucket/prefix with a valid bucket name, found {value!r}"
            )
    elif "://" in value and not value.startswith("file://"):
        raise ValueError(f"expected a folder, file://path or s3://bucket/prefix, found {value!r}")


def check_clamd(value: str) -> None:
    if value and not (value.startswith("/") or re.fullmatch(r"[^\s/:]+:\d{1,5}", value)):
        raise ValueError(f"expected clamd's socket path or host:port, found {value!r}")


def check(fn: Any) -> Any:
    return {"check": fn}
