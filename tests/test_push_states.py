"""Which FacturaScripts quote state means accepted or rejected, whatever its language.

The rows are FacturaScripts' own defaults (Core/Data/Lang/ES/estados_documentos.csv and
Core/Data/Lang/eu_ES/estados_documentos.csv at defd68f4), as the API lists them.
"""

from __future__ import annotations

from typing import Any

import pytest

from portalgen.push import PushError
from portalgen.push.states import quote_states


def rows(text: str) -> list[dict[str, Any]]:
    found = []
    for line in text.strip().splitlines():
        idestado, tipodoc, nombre, pred, _, editable, _, generadoc = line.split(";")[:8]
        found.append(
            {
                "idestado": int(idestado),
                "tipodoc": tipodoc,
                "nombre": nombre,
                "predeterminado": pred == "true",
                "editable": editable == "true",
                "generadoc": generadoc or None,
                "activo": True,
            }
        )
    return found


SPANISH = rows("""
1;PresupuestoCliente;Abierto;true;true;true;0;;
2;PresupuestoCliente;Pedido;false;true;false;0;PedidoCliente;
3;PresupuestoCliente;Rechazado;false;true;false;0;;
23;PresupuestoCliente;Caducado;false;true;false;0;;fa-solid fa-hourglass-end
24;PresupuestoCliente;Facturar;false;true;false;0;FacturaCliente;
4;PedidoCliente;Abierto;true;true;true;-2;;
6;PedidoCliente;Cancelado;false;true;false;0;;
""")
BASQUE = rows("""
1;PresupuestoCliente;Berria;true;true;true;0;
2;PresupuestoCliente;Onartua;false;true;false;0;PedidoCliente
3;PresupuestoCliente;Baztertua;false;true;false;0;
""")


@pytest.mark.parametrize("states", [SPANISH, BASQUE], ids=["es", "eu"])
def test_states_are_found_by_what_they_do_not_by_name(states: list[dict[str, Any]]) -> None:
    found = quote_states(states)
    # Pedido/Onartua generates the order; Facturar generates an invoice instead.
    assert found.target("accepted") == 2
    # Rechazado/Baztertua: final, generates nothing, and is not Caducado (23).
    assert found.target("rejected") == 3


def test_the_configuration_names_states_and_an_unknown_one_is_refused() -> None:
    extra = {**SPANISH[2], "idestado": 40, "nombre": "Perdido"}
    found = quote_states([*SPANISH, extra], accepted=24, rejected=40)
    assert (found.target("accepted"), found.target("rejected")) == (24, 40)
    with pytest.raises(PushError, match=r"facturascripts.rejected_state: FacturaScripts has no"):
        quote_states(SPANISH, rejected=99).target("rejected")


def test_an_ambiguous_meaning_asks_for_the_configuration_for_that_decision_only() -> None:
    extra = {**SPANISH[2], "idestado": 40, "nombre": "Perdido"}
    found = quote_states([*SPANISH, extra])
    assert found.target("accepted") == 2
    with pytest.raises(PushError) as error:
        found.target("rejected")
    assert "[3 (Rechazado), 40 (Perdido)]; name it with facturascripts.rejected_state" in str(
        error.value
    )
    inactive = {**SPANISH[1], "activo": False}
    # Without a state that generates the order, Facturar (an invoice) is not guessed.
    with pytest.raises(PushError, match=r"means accepted: FacturaScripts has 0 .*\[none\]"):
        quote_states([inactive, *SPANISH[2:]]).target("accepted")
