"""Demo customers: names, tax ids, addresses and contacts, all fictitious."""

from __future__ import annotations

import random
from typing import Any

from stdnum.es import cif

from portalgen.demo.company import MAIL_DOMAIN

_SECTORS = [
    ("Ferretería", "retail"),
    ("Talleres", "industry"),
    ("Construcciones", "industry"),
    ("Reformas", "industry"),
    ("Bar Restaurante", "hospitality"),
    ("Hostal", "hospitality"),
    ("Clínica Dental", "services"),
    ("Panadería", "retail"),
    ("Transportes", "industry"),
    ("Gestoría", "services"),
    ("Bodegas", "industry"),
    ("Frutas", "retail"),
    ("Carpintería", "industry"),
    ("Electricidad", "industry"),
    ("Droguería", "retail"),
    ("Librería", "retail"),
    ("Academia", "services"),
    ("Cafetería", "hospitality"),
]
_NAMES = [
    "García",
    "Hermanos López",
    "Martínez",
    "del Norte",
    "Mediterráneo",
    "Castilla",
    "Sánchez e Hijos",
    "La Huerta",
    "Levante",
    "Pérez",
    "Costa Blanca",
    "Torres",
    "El Puerto",
    "Navarro",
    "San Juan",
    "Ruiz",
    "La Alameda",
    "Moreno",
    "Santa Ana",
    "Jiménez",
    "Ibérica",
    "Valle Verde",
    "Romero",
    "Las Dunas",
    "Gómez",
    "Ordóñez",
    "Ñandú",
    "Vidal",
]
_FORMS = ["S.L.", "S.L.", "S.L.", "S.A.", "S.L.U.", "S.Coop."]
_FIRST = [
    "María",
    "José",
    "Carmen",
    "Antonio",
    "Lucía",
    "Javier",
    "Pilar",
    "Manuel",
    "Elena",
    "Jordi",
]
_SURNAMES = ["Pérez", "Gómez", "Fernández", "Díaz", "Muñoz", "Álvarez", "Romero", "Alonso", "Vidal"]
_EN_NAMES = [
    "Coastal Lettings Ltd",
    "Brightwater Cafe",
    "Sunrise Language School",
    "Harbour View Apartments",
    "Green Valley Farm Shop",
    "Oakwood Dental Practice",
]
_CITIES = [
    ("Valencia", "46", "Valencia"),
    ("Alicante", "03", "Alicante"),
    ("Elche", "03", "Alicante"),
    ("Castellón de la Plana", "12", "Castellón"),
    ("Murcia", "30", "Murcia"),
    ("Madrid", "28", "Madrid"),
    ("Albacete", "02", "Albacete"),
    ("Gandía", "46", "Valencia"),
    ("Benidorm", "03", "Alicante"),
    ("Cartagena", "30", "Murcia"),
    ("Teruel", "44", "Teruel"),
]
_STREETS = [
    "Calle Mayor",
    "Avenida del Puerto",
    "Calle San Vicente",
    "Avenida de la Constitución",
    "Calle Colón",
    "Polígono Industrial El Oliveral, Calle",
    "Calle de la Paz",
    "Plaza de España",
]


# (description, unit, price range, IVA %, sectors or None for all)
def new_customer(rng: random.Random, index: int) -> dict[str, Any]:
    kind = rng.random()
    city, prefix, province = rng.choice(_CITIES)
    sector_name, sector = rng.choice(_SECTORS)
    language = "es"
    if kind < 0.08:
        name = rng.choice(_EN_NAMES)
        language, sector = "en", rng.choice(["hospitality", "services", "retail"])
        tax_id = _cif(rng)
    elif kind < 0.25:
        name = f"{rng.choice(_FIRST)} {rng.choice(_SURNAMES)} {rng.choice(_SURNAMES)}"
        tax_id = _dni(rng)
        sector_name = name
    else:
        name = f"{sector_name} {rng.choice(_NAMES)} {rng.choice(_FORMS)}"
        tax_id = _cif(rng)
    domain = _mail_slug(name) + ".example"
    emails = ["administracion@" + domain]
    if rng.random() < 0.35:
        emails.append(rng.choice(["compras", "gerencia", "contabilidad"]) + "@" + domain)
    return {
        "code": f"C{index:05d}",
        "name": name,
        "trade_name": sector_name if kind >= 0.25 and rng.random() < 0.3 else "",
        "tax_id": tax_id,
        "emails": ";".join(emails),
        "language": language,
        "street": f"{rng.choice(_STREETS)} {rng.randint(1, 180)}",
        "postal_code": f"{prefix}{rng.randint(1, 999):03d}",
        "city": city,
        "province": province,
        "country": "ES",
        "phone": f"+34 9{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
        "iban": "",
        "account_manager": f"comercial{rng.randint(1, 3)}@{MAIL_DOMAIN}"
        if rng.random() < 0.4
        else "",
        "notify": "false" if rng.random() < 0.04 else "true",
        "_sector": sector,
        "_rental": rng.random() < 0.08,
    }


def _cif(rng: random.Random) -> str:
    body = rng.choice("ABB") + f"{rng.randint(0, 9_999_999):07d}"
    return body + cif.calc_check_digits(body)[0]  # A and B companies take the digit


def _dni(rng: random.Random) -> str:
    number = rng.randint(1_000_000, 99_999_999)
    return f"{number:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]


def _mail_slug(name: str) -> str:
    table = str.maketrans("áéíóúñüÁÉÍÓÚÑÜ", "aeiounuAEIOUNU")
    words = [
        w
        for w in name.translate(table).lower().replace(".", "").split()
        if w not in {"sl", "sa", "slu", "scoop", "del", "de", "la", "e", "el", "las"}
    ]
    return "-".join("".join(ch for ch in w if ch.isalnum()) for w in words[:3])
