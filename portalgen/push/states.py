"""Which FacturaScripts state means "accepted" and which "rejected", for a customer quote.

Names depend on the installation's language (Pedido, Onartua, Accepted...), so the states
are found by what they do, as FacturaScripts itself treats them:

- accepted: an active ``PresupuestoCliente`` state with ``generadoc`` set: moving a quote
  there makes FacturaScripts create the next document (TransformerDocument::onChange calls
  BusinessDocumentGenerator). Only one that generates the order (``PedidoCliente``)
  counts: the Spanish data also ships Facturar → FacturaCliente, and issuing an invoice
  is not for a customer's click to decide unless the configuration says so.
- rejected: an active ``PresupuestoCliente`` state that is neither editable nor generates
  anything (Rechazado, Baztertua). FacturaScripts ships one more such state, Caducado
  (id 23), which ListPresupuestoCliente.php sets on expired quotes; it is left out. If
  more than one remains, the configuration must name it.

``facturascripts.accepted_state`` / ``rejected_state`` name the ids explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portalgen.push.client import PushError

QUOTE_MODEL = "PresupuestoCliente"
EXPIRED_STATE = 23  # Core/Data/Lang/ES/estados_documentos.csv; ListPresupuestoCliente.php


@dataclass(frozen=True)
class QuoteStates:
    accepted: int  # 0: cannot be told (`problems` says why)
    rejected: int
    names: Mapping[int, str]  # idestado → nombre, for messages
    problems: Mapping[str, str]  # decision → why its state cannot be told

    def target(self, decision: str) -> int:
        """The state for `decision`; PushError if it cannot be told (only decisions of
        that kind wait for the configuration)."""
        found = self.accepted if decision == "accepted" else self.rejected
        if not found:
            raise PushError(self.problems[decision])
        return found

    def name(self, idestado: int) -> str:
        return self.names.get(idestado, str(idestado))


def quote_states(
    rows: Iterable[Mapping[str, Any]], accepted: int = 0, rejected: int = 0
) -> QuoteStates:
    """From the API's ``estadodocumentos`` rows; PushError if a state cannot be told."""
    quotes = [r for r in rows if r.get("tipodoc") == QUOTE_MODEL and r.get("idestado")]
    by_id = {int(r["idestado"]): r for r in quotes}
    names = {i: str(r.get("nombre") or i) for i, r in by_id.items()}
    active = [r for r in quotes if r.get("activo", True)]
    found: dict[str, int] = {}
    problems: dict[str, str] = {}
    for decision, wanted, find in (
        ("accepted", accepted, _accepted),
        ("rejected", rejected, _rejected),
    ):
        try:
            found[decision] = _named(by_id, wanted, f"{decision}_state") or find(active)
        except PushError as exc:
            found[decision], problems[decision] = 0, str(exc)
    return QuoteStates(found["accepted"], found["rejected"], names, problems)


def _named(by_id: Mapping[int, Mapping[str, Any]], wanted: int, key: str) -> int:
    if not wanted:
        return 0
    if wanted not in by_id:
        raise PushError(
            f"facturascripts.{key}: FacturaScripts has no {QUOTE_MODEL} state {wanted} "
            f"(its quote states: {', '.join(str(i) for i in sorted(by_id))})"
        )
    return wanted


def _accepted(active: Sequence[Mapping[str, Any]]) -> int:
    chosen = [r for r in active if r.get("generadoc") == "PedidoCliente"]
    if len(chosen) != 1:
        meaning = "generate the order (generadoc PedidoCliente)"
        raise PushError(_ambiguous("accepted", meaning, chosen))
    return int(chosen[0]["idestado"])


def _rejected(active: Sequence[Mapping[str, Any]]) -> int:
    final = [r for r in active if not r.get("editable") and not r.get("generadoc")]
    chosen = [r for r in final if int(r["idestado"]) != EXPIRED_STATE]
    if len(chosen) != 1:
        raise PushError(
            _ambiguous("rejected", "are neither editable nor generate a document", chosen)
        )
    return int(chosen[0]["idestado"])


def _ambiguous(decision: str, meaning: str, rows: list[Mapping[str, Any]]) -> str:
    listed = ", ".join(f"{r['idestado']} ({r.get('nombre')})" for r in rows) or "none"
    return (
        f"cannot tell which quote state means {decision}: FacturaScripts has {len(rows)} "
        f"active quote states that {meaning} [{listed}]; name it with "
        f"facturascripts.{decision}_state"
    )
