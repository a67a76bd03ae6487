"""Click parameter types: values are checked when the command line is parsed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

import click

from portalgen.config import parse_duration
from portalgen.load import FORMATS


class DurationType(click.ParamType):  # type: ignore[type-arg]
    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class DateType(click.ParamType):  # type: ignore[type-arg]
    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"expected a date as YYYY-MM-DD, found {value!r}", param, ctx)


class ShardType(click.ParamType):  # type: ignore[type-arg]
    """``--shard 2/8``: this machine's part of the customers (1-based) / how many parts."""

    name = "i/N"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from portalgen.publish.inputs import Shard

        if isinstance(value, Shard):
            return value
        try:
            return Shard.parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


F = TypeVar("F", bound=Callable[..., Any])

DURATION = DurationType()
DATE = DateType()
SHARD = ShardType()


def format_option() -> Callable[[F], F]:
    return click.option(
        "--format",
        "input_format",
        type=click.Choice(sorted(FORMATS)),
        default=None,
        help="The export's format (detected when not given).",
    )
