# ruff: noqa: E501, SIM905 - long XML and table literals read better whole
"""A realistic FacturaScripts export, written by the tests in both forms a business has.

The rows follow the table definitions documented in ../shared/FORMATS.md §1.2 (column
names, types, NULLs), with money and quantities as doubles (including the binary noise
a double carries) and totals computed in doubles the way FacturaScripts does
(Core/Lib/Calculator.php, accumulate and getSubtotals; PHP's round), independently of
portalgen's decimal re-expression of the same rules (portalgen/load/facturascripts/calc.py). The same
rows are written as API JSON (``<resource>.json``, ``d-m-Y`` dates) and as a CSV dump
(``<table>.csv``, ISO dates, ``t``/``f`` booleans, empty NULLs), and served by a small
API server for `portalgen fetch` (tests/test_fetch.py).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from portalgen.demo.tinypdf import tiny_pdf
from portalgen.load.facturascripts.tables import RESOURCES

# Columns per table, as documented (FORMATS.md §1.2). Rows may leave any of them NULL.
HEADER_COLUMNS = (
    "apartado cifnif ciudad codagente codalmacen codcliente coddivisa codejercicio codigo "
    "codigoenv codpago codpais codpostal codserie codtrans direccion dtopor1 dtopor2 editable "
    "fecha femail hora idcontactoenv idcontactofact idempresa idestado idestado_ant irpf neto "
    "netosindto nick nombrecliente numdocs numero numero2 observaciones operacion provincia "
    "tasaconv total totalbeneficio totalcoste totaleuros totalirpf totaliva totalrecargo "
    "totalsuplidos"
).split()
LINE_COLUMNS = (
    "actualizastock cantidad codimpuesto coste descripcion dtopor dtopor2 excepcioniva idlinea "
    "idproducto irpf iva mostrar_cantidad mostrar_precio orden pvpsindto pvptotal pvpunitario "
    "recargo referencia salto_pagina servido suplido"
).split()
COLUMNS: dict[str, list[str]] = {
    "clientes": (
        "cifnif codagente codcliente codgrupo codpago codproveedor codretencion codserie "
        "codsubcuenta codtarifa debaja diaspago excepcioniva email fax fechaalta fechabaja "
        "idcontactoenv idcontactofact langcode nombre observaciones operacion personafisica "
        "razonsocial regimeniva riesgoalcanzado riesgomax telefono1 telefono2 tipoidfiscal web"
    ).split(),
    "contactos": (
        "apellidos cifnif ciudad codcliente codpais codpostal descripcion direccion email "
        "empresa idcontacto nombre personafisica provincia telefono1"
    ).split(),
    "formaspago": "activa codpago descripcion domiciliado pagado plazovencimiento".split(),
    "estados_documentos": (
        "activo actualizastock bloquear color editable generadoc icon idestado nombre "
        "predeterminado tipodoc"
    ).split(),
    "presupuestoscli": ["idpresupuesto", *HEADER_COLUMNS, "finoferta"],
    "lineaspresupuestoscli": ["idpresupuesto", *LINE_COLUMNS],
    "pedidoscli": ["idpedido", *HEADER_COLUMNS, "finoferta"],
    "lineaspedidoscli": ["idpedido", *LINE_COLUMNS],
    "albaranescli": ["idalbaran", *HEADER_COLUMNS],
    "lineasalbaranescli": ["idalbaran", *LINE_COLUMNS],
    "facturascli": [
        "idfactura",
        *HEADER_COLUMNS,
        "codigorect",
        "idfacturarect",
        "fechadevengo",
        "idasiento",
        "pagada",
        "vencida",
    ],
    "lineasfacturascli": ["idfactura", *LINE_COLUMNS, "idlinearect"],
    "recibospagoscli": (
        "codcliente coddivisa codigofactura codpago fecha fechapago gastos idempresa "
        "idfactura idrecibo importe liquidado nick numero observaciones pagado vencido "
        "vencimiento"
    ).split(),
    "pagoscli": "codpago customid customstatus fecha gastos hora idasiento idpago idrecibo importe nick".split(),
    "doctransformations": "cantidad id iddoc1 iddoc2 idlinea1 idlinea2 model1 model2".split(),
    "attached_files": "date filename hour idfile mimetype path size".split(),
    "attached_files_rel": "creationdate id idfile model modelcode modelid nick observations orden".split(),
    "impuestos": "activo codimpuesto descripcion iva recargo tipo".split(),
    "settings": "name properties".split(),
}

MODELS = {
    "presupuestoscli": ("idpresupuesto", "PresupuestoCliente", "lineaspresupuestoscli"),
    "pedidoscli": ("idpedido", "PedidoCliente", "lineaspedidoscli"),
    "albaranescli": ("idalbaran", "AlbaranCliente", "lineasalbaranescli"),
    "facturascli": ("idfactura", "FacturaCliente", "lineasfacturascli"),
}


def _line(
    doc_id: int, idlinea: int, desc: str, qty: float, price: float, **extra: Any
) -> dict[str, Any]:
    dto, dto2 = extra.pop("dtopor", 0.0), extra.pop("dtopor2", 0.0)
    pvpsindto = qty * price
    return {
        "idlinea": idlinea,
        "descripcion": desc,
        "cantidad": qty,
        "pvpunitario": price,
        "dtopor": dto,
        "dtopor2": dto2,
        "pvpsindto": pvpsindto,
        "pvptotal": pvpsindto * (100 - dto) / 100 * (100 - dto2) / 100,
        "iva": extra.pop("iva", 21.0),
        "recargo": extra.pop("recargo", 0.0),
        "irpf": extra.pop("irpf", 0.0),
        "orden": extra.pop("orden", 0),
        "referencia": extra.pop("referencia", None),
        "suplido": False,
        "mostrar_cantidad": True,
        "mostrar_precio": True,
        "_doc": doc_id,
        **extra,
    }


def php_round(value: float, places: int = 2) -> float:
    """PHP's round() (before 8.4): the double pre-rounded to 15 significant digits, then
    half away from zero — what FacturaScripts' Tools::round does with 2 decimals."""
    exact = Decimal(repr(value))
    if exact:
        exact = exact.quantize(Decimal(1).scaleb(exact.adjusted() - 14), ROUND_HALF_UP)
    return float(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))


def fs_totals(
    lines: list[dict[str, Any]], g1: float, g2: float, method: str = "classic"
) -> dict[str, float]:
    """Calculator::getSubtotals in doubles: per (iva, recargo) group, rounded per group."""
    eud = (1 - g1 / 100) * (1 - g2 / 100)
    groups: dict[tuple[float, float], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    irpf = suplidos = 0.0
    for line in lines:
        pvp = line["pvptotal"] * eud
        if not line["pvptotal"]:
            continue
        if line["suplido"]:
            suplidos += pvp
            continue
        irpf += pvp * line["irpf"] / 100
        group = groups[line["iva"], line["recargo"]]
        group[0] += pvp
        group[1] += line["pvptotal"]
        if line["iva"] > 0 and method == "price-adjusted":
            with_vat = php_round(line["pvpunitario"] * (100 + line["iva"]) / 100)
            total = line["cantidad"] * with_vat * (100 - line["dtopor"]) / 100
            total = total * (100 - line["dtopor2"]) / 100 * (100 - g1) / 100 * (100 - g2) / 100
            group[2] += php_round(total) - php_round(pvp)
        elif line["iva"] > 0:
            group[2] += pvp * line["iva"] / 100
        if line["recargo"] > 0:
            group[3] += pvp * line["recargo"] / 100
    neto = netosindto = iva = recargo = 0.0
    for group in groups.values():
        neto += php_round(group[0])
        netosindto += php_round(group[1])
        iva += php_round(group[2])
        recargo += php_round(group[3])
    out = {
        "neto": php_round(neto),
        "netosindto": php_round(netosindto),
        "totaliva": php_round(iva),
        "totalrecargo": php_round(recargo),
        "totalirpf": php_round(irpf),
        "totalsuplidos": php_round(suplidos),
    }
    out["total"] = php_round(
        out["neto"]
        + out["totalsuplidos"]
        + out["totaliva"]
        + out["totalrecargo"]
        - out["totalirpf"]
    )
    return out


def _header(
    doc_id: int,
    code: str,
    customer: str | None,
    when: date,
    lines: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """A document header with totals as Calculator.php computes them (in doubles)."""
    g1, g2 = extra.get("dtopor1", 0.0) or 0.0, extra.get("dtopor2", 0.0) or 0.0
    totals = fs_totals(lines, g1, g2, extra.pop("method", "classic"))
    row = {
        "_id": doc_id,
        "codigo": code,
        "codcliente": customer,
        "cifnif": extra.pop("cifnif", None),
        "nombrecliente": extra.pop("nombrecliente", "Cliente"),
        "coddivisa": "EUR",
        "codejercicio": str(when.year),
        "codpago": extra.pop("codpago", "TRANS"),
        "codserie": "A",
        "fecha": when,
        "hora": "10:30:00",
        "numero": code[len("F2026A") :] if code.startswith("F2026A") else code[-1],
        "idempresa": 1,
        **totals,
        "tasaconv": 1.0,
        "editable": False,
        **extra,
    }
    row["totaleuros"] = row["total"]
    return row


def add_arithmetic_invoices(add: Any) -> None:
    """Invoices whose totals only come out right with FacturaScripts' own arithmetic."""
    ten = [_line(6, 100 + i, f"Arandela {i + 1}", 1.0, 1.234) for i in range(10)]
    add("facturascli", _header(6, "F2026A6", "1", date(2026, 6, 8), ten, idestado=11), ten)
    # Header discounts (Test/Core/Lib/CalculatorTest.php, testDiscounts) and a suplido,
    # which keeps its iva=21 but is outside VAT (testSupplied).
    f7 = [
        _line(7, 120, "Revisión", 1.0, 100.0),
        _line(7, 121, "Escobillas", 2.0, 10.0, dtopor=10.0, dtopor2=5.0, iva=4.0),
        _line(7, 122, "Tasa ITV (suplido)", 1.0, 45.5, suplido=True),
    ]
    add(
        "facturascli",
        _header(7, "F2026A7", "1", date(2026, 6, 9), f7, idestado=11, dtopor1=5.0, dtopor2=3.0),
        f7,
    )
    # IRPF and recargo on odd prices.
    f8 = [
        _line(8, 130, "Peritaje", 3.0, 33.335, irpf=15.0),
        _line(8, 131, "Bombillas H7", 7.0, 2.345, iva=10.0, recargo=1.4),
        _line(8, 132, "Juntas", 3.0, 1.115, recargo=5.2),
    ]
    add("facturascli", _header(8, "F2026A8", "1", date(2026, 6, 10), f8, idestado=11), f8)
    # An exempt course (art. 20 LIVA) for the English-speaking customer.
    f9 = [_line(9, 140, "Curso de conducción eficiente", 1.0, 300.0, iva=0.0, excepcioniva="ES_20")]
    add("facturascli", _header(9, "F2026A9", "2", date(2026, 6, 11), f9, idestado=11), f9)
    # A reverse charge (inversión del sujeto pasivo, art. 84 LIVA).
    f10 = [
        _line(10, 150, "Reforma de nave", 1.0, 2000.0, iva=0.0, excepcioniva="ES_84"),
    ]
    add(
        "facturascli",
        _header(
            10, "F2026A10", "1", date(2026, 6, 12), f10, idestado=11, operacion="inv-sujeto-pasivo"
        ),
        f10,
    )
    # An export whose lines were saved without their exception: the operation says why.
    f11 = [_line(11, 160, "Motor reconstruido", 1.0, 1500.0, iva=0.0)]
    add(
        "facturascli",
        _header(11, "F2026A11", "2", date(2026, 6, 13), f11, idestado=11, operacion="exportacion"),
        f11,
    )
    # A line whose quantity and price are not printed (SalesDocumentLine::mostrar_*).
    f12 = [
        _line(12, 170, "Montaje", 1.0, 50.0),
        _line(12, 171, "Tornillería", 3.0, 7.77, mostrar_cantidad=False, mostrar_precio=False),
    ]
    add("facturascli", _header(12, "F2026A12", "1", date(2026, 6, 14), f12, idestado=11), f12)
    # Saved while taxcalculationmethod was price-adjusted (CalculatorTest,
    # testProductPriceWithTax4: 0.65 with 4 % VAT included).
    f13 = [_line(13, 180, "Sobre de tornillos", 1.0, 0.625, iva=4.0)]
    add(
        "facturascli",
        _header(13, "F2026A13", "1", date(2026, 6, 15), f13, idestado=11, method="price-adjusted"),
        f13,
    )


def fixture_tables() -> dict[str, list[dict[str, Any]]]:
    """The export's rows per table (Python values: date, float, bool, None)."""
    t: dict[str, list[dict[str, Any]]] = {name: [] for name in RESOURCES}
    t["estados_documentos"] = [
        {
            "idestado": i,
            "tipodoc": doc,
            "nombre": name,
            "predeterminado": pred,
            "editable": ed,
            "generadoc": gen,
            "activo": True,
        }
        for i, doc, name, pred, ed, gen in (
            (1, "PresupuestoCliente", "Abierto", True, True, None),
            (2, "PresupuestoCliente", "Pedido", False, False, "PedidoCliente"),
            (3, "PresupuestoCliente", "Rechazado", False, False, None),
            (23, "PresupuestoCliente", "Caducado", False, False, None),
            (24, "PresupuestoCliente", "Facturar", False, False, "FacturaCliente"),
            (4, "PedidoCliente", "Abierto", True, True, None),
            (5, "PedidoCliente", "Albarán", False, False, "AlbaranCliente"),
            (25, "PedidoCliente", "Facturar", False, False, "FacturaCliente"),
            (6, "PedidoCliente", "Cancelado", False, False, None),
            (7, "AlbaranCliente", "Abierto", True, True, None),
            (8, "AlbaranCliente", "Facturar", False, False, "FacturaCliente"),
            (10, "FacturaCliente", "Boceto", True, True, None),
            (11, "FacturaCliente", "Emitida", False, False, None),
            (30, "PresupuestoCliente", "En espera del cliente", False, False, None),
            (31, "PedidoCliente", "En taller", True, True, None),
        )
    ]
    t["formaspago"] = [
        {"codpago": "CONT", "descripcion": "Al contado", "domiciliado": False, "activa": True},
        {
            "codpago": "TRANS",
            "descripcion": "Transferencia bancaria",
            "domiciliado": False,
            "activa": True,
        },
        {
            "codpago": "DOMI",
            "descripcion": "Recibo domiciliado",
            "domiciliado": True,
            "activa": True,
        },
    ]
    t["clientes"] = [
        {
            "codcliente": "1",
            "nombre": "Talleres Pérez",
            "razonsocial": "Talleres Pérez S.L.",
            "cifnif": "B12345674",
            "email": "Administracion@TalleresPerez.example",
            "telefono1": "+34 910 000 001",
            "langcode": "es_ES",
            "idcontactofact": 1,
            "personafisica": False,
            "debaja": False,
            "fechaalta": date(2020, 1, 15),
            "codpago": "TRANS",
        },
        {
            "codcliente": "2",
            "nombre": "Ana García López",
            "razonsocial": None,
            "cifnif": "12345678Z",
            "email": "ana@example.org",
            "telefono1": None,
            "langcode": "en_GB",
            "idcontactofact": 3,
            "personafisica": True,
            "debaja": False,
            "fechaalta": date(2023, 3, 2),
            "codpago": "DOMI",
        },
    ]
    t["contactos"] = [
        {
            "idcontacto": 1,
            "codcliente": "1",
            "descripcion": "Facturación",
            "direccion": "Calle Mayor 1",
            "codpostal": "28013",
            "ciudad": "Madrid",
            "provincia": "Madrid",
            "codpais": "ESP",
            "email": None,
        },
        {
            "idcontacto": 2,
            "codcliente": "1",
            "descripcion": "Taller",
            "direccion": "Polígono Sur 7",
            "codpostal": "28906",
            "ciudad": "Getafe",
            "provincia": "Madrid",
            "codpais": "ESP",
            "email": "taller@talleresperez.example",
        },
        {
            "idcontacto": 3,
            "codcliente": "2",
            "descripcion": "Casa",
            "direccion": "Carrer Nou 3",
            "codpostal": "46001",
            "ciudad": "València",
            "provincia": "Valencia",
            "codpais": "ESP",
            "email": None,
        },
    ]
    docs: dict[str, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = {
        name: [] for name in MODELS
    }

    def add(table: str, header: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        docs[table].append((header, lines))

    q1 = [
        _line(1, 1, "Revisión anual", 1.0, 120.0),
        _line(1, 2, "Filtro de aceite\nReferencia OEM", 3.0, 12.3, referencia="FIL-01", orden=5),
    ]
    add(
        "presupuestoscli",
        _header(
            1,
            "PRE2026A1",
            "1",
            date(2026, 6, 1),
            q1,
            idestado=1,
            finoferta=date(2026, 7, 31),
            editable=True,
        ),
        q1,
    )
    q2 = [_line(2, 3, "Pintura completa", 1.0, 950.0, dtopor=10.0)]
    add(
        "presupuestoscli",
        _header(2, "PRE2026A2", "1", date(2026, 4, 2), q2, idestado=2, finoferta=None),
        q2,
    )
    q3 = [_line(3, 4, "Neumáticos (x4)", 4.0, 89.99)]
    add(
        "presupuestoscli",
        _header(
            3,
            "PRE2026A3",
            "2",
            date(2026, 5, 1),
            q3,
            idestado=1,
            finoferta=date(2026, 5, 31),
            editable=True,
        ),
        q3,
    )
    q4 = [_line(4, 5, "Cambio de embrague", 1.0, 410.5)]
    add(
        "presupuestoscli",
        _header(4, "PRE2026A4", "2", date(2026, 6, 10), q4, idestado=30, finoferta=None),
        q4,
    )
    o1 = [_line(1, 6, "Pintura completa", 1.0, 950.0, dtopor=10.0)]
    add(
        "pedidoscli",
        _header(1, "PED2026A1", "1", date(2026, 4, 5), o1, idestado=5, cifnif="B12345674"),
        o1,
    )
    o2 = [_line(2, 7, "Cambio de embrague", 1.0, 410.5)]
    add(
        "pedidoscli",
        _header(2, "PED2026A2", "2", date(2026, 6, 12), o2, idestado=31, cifnif="12345678Z"),
        o2,
    )
    d1 = [_line(1, 8, "Pintura completa", 1.0, 950.0, dtopor=10.0)]
    add(
        "albaranescli",
        _header(1, "ALB2026A1", "1", date(2026, 4, 20), d1, idestado=8, cifnif="B12345674"),
        d1,
    )
    f1 = [_line(1, 9, "Pintura completa", 1.0, 950.0, dtopor=10.0)]
    add(
        "facturascli",
        _header(
            1, "F2026A1", "1", date(2026, 4, 30), f1, idestado=11, cifnif="B12345674", pagada=True
        ),
        f1,
    )
    f2 = [
        _line(2, 10, "Mano de obra", 7.5, 45.0),
        _line(2, 11, "Aceite 5W30", 5.0, 8.1, dtopor=5.0, dtopor2=2.0),
        _line(2, 12, "Líquido de frenos", 1.0, 14.95, iva=10.0),
    ]
    add(
        "facturascli",
        _header(
            2,
            "F2026A2",
            "1",
            date(2026, 5, 10),
            f2,
            idestado=11,
            cifnif="B12345674",
            codpago="DOMI",
            vencida=True,
        ),
        f2,
    )
    f3 = [_line(3, 13, "Abono: pintura completa (garantía)", -1.0, 95.0)]
    add(
        "facturascli",
        _header(
            3,
            "F2026A3",
            "1",
            date(2026, 5, 20),
            f3,
            idestado=11,
            cifnif="B12345674",
            codigorect="F2026A1",
            idfacturarect=1,
        ),
        f3,
    )
    f4 = [
        _line(4, 14, "Asesoría técnica", 10.0, 60.0, irpf=15.0),
        _line(4, 15, "Recambios (recargo)", 2.0, 33.33, recargo=5.2),
    ]
    add(
        "facturascli",
        _header(
            4,
            "F2026A4",
            "2",
            date(2026, 6, 5),
            f4,
            idestado=11,
            cifnif="12345678Z",
            dtopor1=2.5,
            codpago="CONT",
        ),
        f4,
    )
    f5 = [_line(5, 16, "Venta mostrador", 1.0, 10.0)]
    add(
        "facturascli",
        _header(5, "F2026A5", None, date(2026, 6, 6), f5, idestado=11, cifnif="00000000T"),
        f5,
    )
    add_arithmetic_invoices(add)
    t["impuestos"] = [
        {"codimpuesto": "IVA21", "descripcion": "IVA 21%", "iva": 21.0, "recargo": 5.2, "tipo": 1},
        {"codimpuesto": "IVA10", "descripcion": "IVA 10%", "iva": 10.0, "recargo": 1.4, "tipo": 1},
        {"codimpuesto": "IVA4", "descripcion": "IVA 4%", "iva": 4.0, "recargo": 0.5, "tipo": 1},
        {"codimpuesto": "IVA0", "descripcion": "IVA 0%", "iva": 0.0, "recargo": 0.0, "tipo": 1},
    ]
    t["settings"] = [
        {
            "name": "default",
            "properties": json.dumps({"codpais": "ESP", "taxcalculationmethod": "classic"}),
        }
    ]
    for table, (pk, _, lines_table) in MODELS.items():
        for header, lines in docs[table]:
            header[pk] = header.pop("_id")
            t[table].append(header)
            for line in lines:
                line[pk] = line.pop("_doc")
                t[lines_table].append(line)
    total = {h["codigo"]: h["total"] for h in t["facturascli"]}
    t["recibospagoscli"] = [
        {
            "idrecibo": 1,
            "idfactura": 1,
            "codigofactura": "F2026A1",
            "codcliente": "1",
            "coddivisa": "EUR",
            "numero": 1,
            "importe": total["F2026A1"],
            "fecha": date(2026, 4, 30),
            "vencimiento": date(2026, 5, 30),
            "pagado": True,
            "fechapago": date(2026, 5, 28),
            "vencido": False,
            "idempresa": 1,
            "codpago": "TRANS",
            "gastos": 0.0,
            "liquidado": 0.0,
        },
        {
            "idrecibo": 2,
            "idfactura": 2,
            "codigofactura": "F2026A2",
            "codcliente": "1",
            "coddivisa": "EUR",
            "numero": 1,
            "importe": 200.0,
            "fecha": date(2026, 5, 10),
            "vencimiento": date(2026, 5, 10),
            "pagado": True,
            "fechapago": None,
            "vencido": False,
            "idempresa": 1,
            "codpago": "DOMI",
            "gastos": 0.0,
            "liquidado": 0.0,
        },
        {
            "idrecibo": 3,
            "idfactura": 2,
            "codigofactura": "F2026A2",
            "codcliente": "1",
            "coddivisa": "EUR",
            "numero": 2,
            "importe": total["F2026A2"] - 200.0,
            "fecha": date(2026, 5, 10),
            "vencimiento": date(2026, 6, 10),
            "pagado": False,
            "fechapago": None,
            "vencido": True,
            "idempresa": 1,
            "codpago": "DOMI",
            "gastos": 0.0,
            "liquidado": 0.0,
        },
        {
            "idrecibo": 4,
            "idfactura": 4,
            "codigofactura": "F2026A4",
            "codcliente": "2",
            "coddivisa": "EUR",
            "numero": 1,
            "importe": total["F2026A4"],
            "fecha": date(2026, 6, 5),
            "vencimiento": date(2026, 7, 5),
            "pagado": False,
            "fechapago": None,
            "vencido": False,
            "idempresa": 1,
            "codpago": "CONT",
            "gastos": 0.0,
            "liquidado": 0.0,
        },
        {
            "idrecibo": 5,
            "idfactura": 5,
            "codigofactura": "F2026A5",
            "codcliente": None,
            "coddivisa": "EUR",
            "numero": 1,
            "importe": total["F2026A5"],
            "fecha": date(2026, 6, 6),
            "vencimiento": date(2026, 6, 6),
            "pagado": True,
            "fechapago": date(2026, 6, 6),
            "vencido": False,
            "idempresa": 1,
            "codpago": "CONT",
            "gastos": 0.0,
            "liquidado": 0.0,
        },
    ]
    t["pagoscli"] = [
        {
            "idpago": 1,
            "idrecibo": 2,
            "fecha": date(2026, 5, 12),
            "importe": 200.0,
            "codpago": "DOMI",
            "hora": "09:00:00",
        }
    ]
    t["doctransformations"] = [
        {
            "id": 1,
            "model1": "PresupuestoCliente",
            "iddoc1": 2,
            "idlinea1": 3,
            "model2": "PedidoCliente",
            "iddoc2": 1,
            "idlinea2": 6,
            "cantidad": 1.0,
        },
        {
            "id": 2,
            "model1": "PedidoCliente",
            "iddoc1": 1,
            "idlinea1": 6,
            "model2": "AlbaranCliente",
            "iddoc2": 1,
            "idlinea2": 8,
            "cantidad": 1.0,
        },
        {
            "id": 3,
            "model1": "AlbaranCliente",
            "iddoc1": 1,
            "idlinea1": 8,
            "model2": "FacturaCliente",
            "iddoc2": 1,
            "idlinea2": 9,
            "cantidad": 1.0,
        },
        {
            "id": 4,
            "model1": "PresupuestoCliente",
            "iddoc1": 4,
            "idlinea1": 5,
            "model2": "PedidoCliente",
            "iddoc2": 2,
            "idlinea2": 7,
            "cantidad": 1.0,
        },
    ]
    t["attached_files"] = [
        {
            "idfile": 1,
            "filename": "F2026A1.pdf",
            "path": "MyFiles/2026/05/F2026A1.pdf",
            "mimetype": "application/pdf",
            "size": 0,
            "date": date(2026, 5, 1),
            "hour": "08:00:00",
        },
        {
            "idfile": 2,
            "filename": "contrato-mantenimiento.pdf",
            "path": "MyFiles/2026/01/contrato-mantenimiento.pdf",
            "mimetype": "application/pdf",
            "size": 0,
            "date": date(2026, 1, 10),
            "hour": "08:00:00",
        },
        {
            "idfile": 3,
            "filename": "fotos-pintura.pdf",
            "path": "MyFiles/2026/04/fotos-pintura.pdf",
            "mimetype": "application/pdf",
            "size": 0,
            "date": date(2026, 4, 21),
            "hour": "08:00:00",
        },
    ]
    t["attached_files_rel"] = [
        {
            "id": 1,
            "idfile": 1,
            "model": "FacturaCliente",
            "modelid": 1,
            "modelcode": "F2026A1",
            "creationdate": datetime(2026, 5, 1, 8, 0),
        },
        {
            "id": 2,
            "idfile": 2,
            "model": "Cliente",
            "modelid": 0,
            "modelcode": "1",
            "creationdate": datetime(2026, 1, 10, 8, 0),
        },
        {
            "id": 3,
            "idfile": 3,
            "model": "AlbaranCliente",
            "modelid": 1,
            "modelcode": "ALB2026A1",
            "creationdate": datetime(2026, 4, 21, 8, 0),
        },
    ]
    return t


def write_files(folder: Path) -> None:
    """The attached files' bytes, where attached_files.path says (MyFiles/...)."""
    for row in fixture_tables()["attached_files"]:
        target = folder / row["path"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tiny_pdf(row["filename"], ["FacturaScripts attachment"]))


def api_value(value: Any) -> Any:
    """A value as the API returns it (Tools::date: d-m-Y)."""
    if isinstance(value, datetime):
        return value.strftime("%d-%m-%Y %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%d-%m-%Y")
    return value


def api_rows(table: str) -> list[dict[str, Any]]:
    columns = COLUMNS[table]
    return [{c: api_value(row.get(c)) for c in columns} for row in fixture_tables()[table]]


def write_json(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, resource in RESOURCES.items():
        (folder / f"{resource}.json").write_text(
            json.dumps(api_rows(table), ensure_ascii=False), encoding="utf-8"
        )
    write_files(folder)
    return folder


def csv_value(value: Any) -> str:
    """A value as PostgreSQL's CSV output writes it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def write_csv(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in fixture_tables().items():
        columns = COLUMNS[table]
        with (folder / f"{table}.csv").open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow([csv_value(row.get(c)) for c in columns])
    write_files(folder)
    return folder
