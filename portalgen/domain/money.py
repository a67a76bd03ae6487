"""Money: an amount in one currency, rounded to cents the way invoices are (half up).

`portalgen.domain.model` re-exports these names; both import paths work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(value: Decimal) -> Decimal:
    """Round to cents the way invoices do (half up, not banker's rounding)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic refuses to mix currencies."""

    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        """0.00 in `currency` (one shared value per currency: Money is immutable)."""
        found = _ZEROS.get(currency)
        if found is None:
            found = _ZEROS.setdefault(currency, Money(_ZERO, currency))
        return found

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} and {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0


_ZERO = Decimal("0.00")
_ZEROS: dict[str, Money] = {}


def sum_money(values: Iterable[Money], currency: str) -> Money:
    """The sum, added in order from 0.00 as `+` adds (the same Decimal), without a Money
    made per step; mixing currencies is refused as `+` refuses it."""
    total = _ZERO
    for value in values:
        if value.currency != currency:
            raise ValueError(f"cannot combine {currency} and {value.currency}")
        total = total + value.amount
    return Money(total, currency) if total is not _ZERO else Money.zero(currency)
