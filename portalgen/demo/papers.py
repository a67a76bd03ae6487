"""The text of the demo's shared documents: a supply contract and a maintenance report.

Blocks for `tinypdf.text_pdf`: ("h", heading) or ("p", paragraph). Everything follows from
the customer, the date and the random generator passed in, so the bytes are reproducible.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

COMPANY = "Suministros y Servicios Levante, S.L."
Block = tuple[str, str]

_CLAUSES = [
    (
        "Objeto",
        "El presente contrato regula el suministro por EL PROVEEDOR a EL CLIENTE de los "
        "productos de ferretería, limpieza, alimentación y material técnico de su catálogo "
        "vigente, así como los servicios de transporte, instalación y mantenimiento que se "
        "soliciten mediante pedido.",
    ),
    (
        "Pedidos",
        "Los pedidos se realizarán por escrito, por correo electrónico o a través del portal "
        "de clientes. EL PROVEEDOR confirmará cada pedido indicando la fecha prevista de "
        "entrega. Un pedido confirmado solo podrá anularse antes de su expedición.",
    ),
    (
        "Precios",
        "Los precios aplicables son los de la tarifa vigente en la fecha del pedido, a los "
        "que se sumará el IVA y, en su caso, el recargo de equivalencia. La tarifa podrá "
        "actualizarse una vez al año, comunicándolo con treinta días de antelación.",
    ),
    (
        "Entrega y transporte",
        "La mercancía se entregará en el domicilio de EL CLIENTE acompañada de su albarán. "
        "El riesgo se transmite con la entrega. Los pedidos de importe inferior al mínimo "
        "establecido en la tarifa devengarán el cargo de transporte correspondiente.",
    ),
    (
        "Recepción y reclamaciones",
        "EL CLIENTE comprobará la mercancía al recibirla y anotará en el albarán cualquier "
        "daño visible. Las reclamaciones por defectos ocultos podrán presentarse en los "
        "quince días siguientes a la entrega, indicando el número de albarán.",
    ),
    (
        "Facturación",
        "EL PROVEEDOR emitirá factura por cada entrega o, si así se acuerda, una factura "
        "mensual que agrupe los albaranes del mes. Las facturas se expiden conforme al "
        "sistema VERI*FACTU e incluyen su código QR de verificación.",
    ),
    (
        "Forma de pago",
        "Las facturas se pagarán por transferencia bancaria o domiciliación en el plazo "
        "indicado en cada una de ellas, que no excederá de sesenta días desde su fecha. "
        "Los retrasos devengarán el interés de demora previsto en la Ley 3/2004.",
    ),
    (
        "Garantía",
        "Los productos gozan de la garantía legal y, en su caso, de la del fabricante. Los "
        "servicios de instalación y mantenimiento se garantizan durante seis meses desde "
        "su realización, salvo uso indebido o manipulación por terceros.",
    ),
    (
        "Confidencialidad",
        "Las partes mantendrán reservada la información comercial que conozcan con motivo "
        "de este contrato, incluidas las condiciones económicas pactadas, durante su "
        "vigencia y los dos años siguientes a su terminación.",
    ),
    (
        "Protección de datos",
        "Cada parte tratará los datos personales de la otra únicamente para la gestión de "
        "esta relación comercial, conforme al Reglamento (UE) 2016/679 y a la Ley Orgánica "
        "3/2018. Los interesados pueden ejercer sus derechos en la dirección de EL PROVEEDOR.",
    ),
    (
        "Duración",
        "El contrato entra en vigor en la fecha de su firma y tiene una duración de un año, "
        "prorrogable tácitamente por periodos iguales salvo denuncia por escrito de "
        "cualquiera de las partes con un mes de antelación a su vencimiento.",
    ),
    (
        "Resolución",
        "Cualquiera de las partes podrá resolver el contrato por incumplimiento grave de la "
        "otra, previo requerimiento por escrito que no sea atendido en quince días. Los "
        "pedidos en curso se completarán y facturarán en las condiciones pactadas.",
    ),
    (
        "Ley aplicable y jurisdicción",
        "El contrato se rige por la legislación española. Para cualquier controversia, las "
        "partes se someten a los juzgados y tribunales de Valencia, con renuncia a "
        "cualquier otro fuero que pudiera corresponderles.",
    ),
]


def contract_blocks(person: dict[str, Any], signed: date) -> list[Block]:
    """A supply contract between the demo company and one customer: parties, clauses."""
    blocks: list[Block] = [
        ("p", f"En Paterna (Valencia), a {signed:%d/%m/%Y}."),
        ("h", "REUNIDOS"),
        ("p", f"De una parte, {COMPANY}, con CIF B98765431 (en adelante, EL PROVEEDOR)."),
        ("p", "De otra parte, el cliente (en adelante, EL CLIENTE):"),
        ("p", person["name"]),
        ("p", f"NIF {person['tax_id']}, {person['street']}, {person['city']}."),
        ("p", "Ambas partes acuerdan el presente contrato de suministro con estas cláusulas:"),
    ]
    for number, (heading, text) in enumerate(_CLAUSES, start=1):
        blocks += [("h", f"Cláusula {number}. {heading}"), ("p", text)]
    blocks += [
        ("h", "FIRMAS"),
        ("p", f"Por EL PROVEEDOR: {COMPANY}"),
        ("p", f"Por EL CLIENTE: {person['name']}"),
    ]
    return blocks


_CHECKS = [
    ("Cuadro eléctrico general", "Apriete de bornas y prueba de diferenciales"),
    ("Compresor de aire", "Cambio de filtro y purga del calderín"),
    ("Equipo de climatización", "Limpieza de filtros y control de presiones"),
    ("Grupo de presión de agua", "Revisión de presostato y estanqueidad"),
    ("Extintores y BIE", "Comprobación de presión, precinto y señalización"),
    ("Alumbrado de emergencia", "Prueba de autonomía y sustitución de lámparas"),
    ("Cámara frigorífica", "Control de temperatura y revisión de juntas"),
    ("Puerta seccional", "Engrase de guías y ajuste de finales de carrera"),
]


def report_blocks(rng: random.Random, person: dict[str, Any], visit: date) -> list[Block]:
    """A preventive maintenance report: one section per piece of equipment inspected."""
    blocks: list[Block] = [
        ("p", f"Cliente: {person['name']}"),
        ("p", f"Instalación: {person['street']}, {person['city']}."),
        ("p", f"Fecha de la visita: {visit:%d/%m/%Y}. Técnico: equipo de mantenimiento."),
        ("h", "Resumen"),
        (
            "p",
            "Se ha realizado la revisión preventiva mensual prevista en el contrato de "
            "suministro. Los equipos quedan en servicio; las incidencias y recomendaciones "
            "se detallan a continuación.",
        ),
    ]
    for number, (equipment, task) in enumerate(_CHECKS, start=1):
        reading = rng.randint(82, 100)
        state = "Correcto" if reading >= 90 else "Correcto, con observaciones"
        blocks += [
            ("h", f"{number}. {equipment}"),
            ("p", f"Operaciones: {task}. Estado tras la revisión: {state}."),
            (
                "p",
                f"Rendimiento medido: {reading} % del nominal. Tiempo empleado: "
                f"{rng.randint(15, 60)} minutos.",
            ),
        ]
        if reading < 90:
            blocks.append(
                ("p", "Recomendación: sustituir la pieza desgastada en la próxima visita.")
            )
    next_visit = visit + timedelta(days=30)
    blocks += [
        ("h", "Próxima revisión"),
        ("p", f"Prevista para el {next_visit:%d/%m/%Y}. Conserve este informe con su contrato."),
        ("p", f"{COMPANY}, departamento técnico."),
    ]
    return blocks
