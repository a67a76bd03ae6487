"""A stand-in for FacturaScripts' REST API (v3), for `portalgen fetch` and `portalgen push`.

FacturaScripts (PHP, MariaDB, Composer) cannot run on the test machines. This server
answers the calls portalgen makes the way FacturaScripts does, as read in its source
(NeoRazorX/facturascripts at defd68f401d3cbde2823ca669d4e45893ca40eed):

- Token: ``X-Auth-Token`` (or ``Token``) must be an enabled key, else HTTP 401
  ``{"status": "error", "message": "auth-token-invalid"}``
  (Core/Template/ApiController.php::run, Core/Error/InvalidApiToken.php). A key without
  the permission for a resource and method: HTTP 403 ``{"status": "error", "message":
  "forbidden"}`` (ApiController::isAllowed, Core/Error/ForbiddenApiEndpoint.php).
- An unknown resource: HTTP 404 ``{"status": "error", "message": "api-resource-invalid"}``
  (Core/Controller/ApiRoot.php::runResource, Core/Error/InvalidApiResource.php).
- ``GET /api/3/<resource>``: a JSON array, ``limit`` (default 50) / ``offset``,
  ``filter[<column>]=value`` (equality; an unknown column is HTTP 400 ``{"error": "api:
  fields not allowed: ..."}``), ``X-Total-Count`` (Core/Lib/API/APIModel.php::listAll).
- ``GET /api/3/<resource>/<id>``: the record as an object, or HTTP 404 ``{"error":
  "record-not-found"}`` (APIModel::doGET).
- ``PUT /api/3/<resource>/<id>`` with form fields (``$request->request->all()``): each
  field set (``'null'`` → NULL), the model saved; HTTP 200 ``{"ok": "record-updated-
  correctly", "data": {record}}`` with the values as assigned (strings: the model is not
  reloaded), HTTP 404 ``{"error": "record-not-found"}`` for an unknown id, HTTP 400
  ``{"error": "no-data-received-form"}`` without fields, HTTP 400 ``{"error":
  "record-save-error - <log>", "data": ...}`` when the save fails (APIModel::doPUT,
  ::saveResource).
- Saving a sales document (Core/Model/Base/TransformerDocument.php::onChange, ::save):
  on a document that is not editable, only femail, idestado, idestado_ant, numdocs and
  pagada may change (else the save fails: "non-editable-document"); ``editable`` follows
  the new state; a new ``idestado`` stores the old one in ``idestado_ant``; a state with
  ``generadoc`` creates that document from this one when it has no children yet
  (Core/Lib/BusinessDocumentGenerator.php::generate: the header fields copied, the lines
  cloned, a doctransformations row per line), in the new document's default state.
- Saving a receipt (Core/Model/ReciboCliente.php::test): ``fechapago`` is cleared when
  not paid and set to today when paid without one. When ``pagado`` changes, a payment
  (``pagoclientes``) of the receipt's ``importe`` (negative when unpaid) is created
  (ReciboCliente::onChange, ::newPayment), and the invoice's ``pagada`` is set when its
  paid receipts reach its total (ReciboCliente::onUpdate, Core/Lib/ReceiptGenerator.php::
  update).
- ``observaciones`` is stored trimmed with ``< > " '`` as HTML entities (Core/Tools.php::
  noHtml, called by BusinessDocument::test, ReciboCliente::test, Cliente::test).
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from portalgen.load.facturascripts.tables import RESOURCES
from tests.fs_fixture import api_rows

TOKEN = "test-api-key-123"
# resource → (primary key, model class name) (each model's primaryColumn())
MODELS = {
    "clientes": ("codcliente", "Cliente"),
    "estadodocumentos": ("idestado", "EstadoDocumento"),
    "presupuestoclientes": ("idpresupuesto", "PresupuestoCliente"),
    "pedidoclientes": ("idpedido", "PedidoCliente"),
    "albaranclientes": ("idalbaran", "AlbaranCliente"),
    "facturaclientes": ("idfactura", "FacturaCliente"),
    "reciboclientes": ("idrecibo", "ReciboCliente"),
}
DOCUMENTS = {  # the sales documents (TransformerDocument) → their resource
    "PresupuestoCliente": "presupuestoclientes",
    "PedidoCliente": "pedidoclientes",
    "AlbaranCliente": "albaranclientes",
    "FacturaCliente": "facturaclientes",
}
LINES = {
    "PresupuestoCliente": "lineapresupuestoclientes",
    "PedidoCliente": "lineapedidoclientes",
    "AlbaranCliente": "lineaalbaranclientes",
    "FacturaCliente": "lineafacturaclientes",
}
UNLOCKED = {"femail", "idestado", "idestado_ant", "numdocs", "pagada"}
CODE_PREFIX = {"PedidoCliente": "PED", "AlbaranCliente": "ALB", "FacturaCliente": "F"}


@dataclass
class Hold:
    """Stop a request (method, resource) before it is answered (or, `after_write`, once a
    PUT is saved) until `release` is set: a test kills the client meanwhile."""

    method: str
    resource: str
    after_write: bool = False
    nth: int = 1  # hold the nth such request (the earlier ones go through)
    seen: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class FakeApi:
    def __init__(self) -> None:
        self.data = {resource: api_rows(table) for table, resource in RESOURCES.items()}
        self.requests: list[tuple[str, int, int]] = []  # fetch's pages: (resource, limit, offset)
        self.writes: list[tuple[str, str, dict[str, str]]] = []  # PUTs saved
        self.total_count = True
        self.missing: set[str] = set()
        self.read_only: set[str] = set()  # resources the key may GET but not PUT
        self.fail_with: int | None = None  # answer every PUT with this status (500...)
        self.holds: list[Hold] = []
        self.lock = threading.Lock()

    # -- records --------------------------------------------------------------------------

    def record(self, resource: str, record_id: str) -> dict[str, Any] | None:
        pk = MODELS[resource][0]
        return next((r for r in self.data[resource] if str(r.get(pk)) == record_id), None)

    def created(self, model: str) -> list[dict[str, Any]]:
        """Documents of `model` that a state change generated."""
        return [r for r in self.data[DOCUMENTS[model]] if r.get("_generated_from") is not None]

    def hold(self, method: str, resource: str, *, after_write: bool = False, nth: int = 1) -> Hold:
        held = Hold(method, resource, after_write, nth)
        self.holds.append(held)
        return held

    def _wait(self, method: str, resource: str, after_write: bool) -> None:
        for held in self.holds:
            if (held.method, held.resource, held.after_write) == (method, resource, after_write):
                held.seen += 1
                if held.seen == held.nth:
                    held.arrived.set()
                    held.release.wait(60)

    # -- PUT ------------------------------------------------------------------------------

    def put(self, resource: str, record_id: str, values: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            row = self.record(resource, record_id)
            if row is None:
                return 404, {"error": "record-not-found"}
            if not values:
                return 400, {"error": "no-data-received-form"}
            changed = {k: (None if v == "null" else v) for k, v in values.items()}
            notes = changed.get("observaciones")
            if notes is not None:
                changed["observaciones"] = no_html(notes)
            problem = self._save(resource, row, changed)
            if problem:
                return 400, {"error": f"record-save-error - {problem}", "data": _public(row)}
            self.writes.append((resource, record_id, dict(values)))
            answer = {**_public(row), **changed}  # as assigned: not reloaded from the DB
            return 200, {"ok": "record-updated-correctly", "data": answer}

    def _save(self, resource: str, row: dict[str, Any], changed: dict[str, Any]) -> str:
        model = MODELS[resource][1]
        if model in DOCUMENTS:
            return self._save_document(model, row, changed)
        if resource == "reciboclientes":
            return self._save_receipt(row, changed)
        row.update(changed)
        return ""

    def _save_receipt(self, row: dict[str, Any], changed: dict[str, Any]) -> str:
        was_paid = bool(row.get("pagado"))
        paid = str(changed.get("pagado", row.get("pagado"))).lower() in ("1", "true")
        row.update(changed)
        row["pagado"] = paid
        if not paid:
            row["fechapago"] = None
        elif not row.get("fechapago"):
            row["fechapago"] = date.today().strftime("%d-%m-%Y")
        if paid != was_paid:  # ReciboCliente::onChange('pagado') -> newPayment()
            payments = self.data["pagoclientes"]
            importe = float(row["importe"])
            payments.append(
                {
                    "idpago": max((int(p["idpago"]) for p in payments), default=0) + 1,
                    "idrecibo": row["idrecibo"],
                    "importe": importe if paid else -importe,
                    "fecha": row.get("fechapago"),
                    "codpago": row.get("codpago"),
                }
            )
        self._update_invoice(row["idfactura"])
        return ""

    def _update_invoice(self, idfactura: Any) -> None:
        """ReceiptGenerator::update: pagada when the paid receipts reach the total."""
        invoice = self.record("facturaclientes", str(idfactura))
        if invoice is None:
            return
        receipts = [r for r in self.data["reciboclientes"] if r.get("idfactura") == idfactura]
        paid = sum(float(r["importe"]) for r in receipts if r.get("pagado"))
        total = float(invoice["total"])
        invoice["pagada"] = abs(total - paid) < 0.005 or 0 < total <= paid
        invoice["vencida"] = any(r.get("vencido") and not r.get("pagado") for r in receipts)

    def _save_document(self, model: str, row: dict[str, Any], changed: dict[str, Any]) -> str:
        was_editable = bool(row.get("editable"))
        locked = [k for k in changed if k not in UNLOCKED and changed[k] != row.get(k)]
        if not was_editable and locked:
            return "non-editable-document"
        old_state = row.get("idestado")
        row.update(changed)
        if "idestado" in changed and str(changed["idestado"]) != str(old_state):
            state = self.record("estadodocumentos", str(changed["idestado"]))
            if state is None:
                return "idestado: no such state"
            row["idestado"] = int(changed["idestado"])
            row["idestado_ant"] = old_state
            row["editable"] = bool(state.get("editable"))
            if state.get("generadoc") and not self._children(model, row):
                self._generate(model, row, str(state["generadoc"]))
        return ""

    def _children(self, model: str, row: dict[str, Any]) -> list[dict[str, Any]]:
        pk = MODELS[DOCUMENTS[model]][0]
        return [
            t
            for t in self.data["doctransformations"]
            if t["model1"] == model and str(t["iddoc1"]) == str(row[pk])
        ]

    def _generate(self, model: str, row: dict[str, Any], new_model: str) -> None:
        resource = DOCUMENTS[new_model]
        pk, old_pk = MODELS[resource][0], MODELS[DOCUMENTS[model]][0]
        rows = self.data[resource]
        new_id = max((int(r[pk]) for r in rows), default=0) + 1
        skip = {old_pk, "idestado", "idestado_ant", "editable", "codigo", "numero"}
        new = {k: copy.deepcopy(v) for k, v in row.items() if k not in skip}
        default = next(
            s
            for s in self.data["estadodocumentos"]
            if s["tipodoc"] == new_model and s.get("predeterminado")
        )
        new.update(
            {
                pk: new_id,
                "codigo": f"{CODE_PREFIX[new_model]}{row.get('codejercicio')}A{new_id}",
                "numero": str(new_id),
                "idestado": default["idestado"],
                "editable": True,
                "_generated_from": row[old_pk],
            }
        )
        rows.append(new)
        lines = [line for line in self.data[LINES[model]] if line.get(old_pk) == row[old_pk]]
        next_line = max((int(r["idlinea"]) for r in self.data[LINES[new_model]]), default=0)
        transformations = self.data["doctransformations"]
        for offset, line in enumerate(lines, start=1):
            copied = {**line, pk: new_id, "idlinea": next_line + offset}
            copied.pop(old_pk, None)
            self.data[LINES[new_model]].append(copied)
            transformations.append(
                {
                    "id": len(transformations) + 1,
                    "model1": model,
                    "iddoc1": row[old_pk],
                    "idlinea1": line["idlinea"],
                    "model2": new_model,
                    "iddoc2": new_id,
                    "idlinea2": copied["idlinea"],
                    "cantidad": line.get("cantidad"),
                }
            )


def no_html(text: str) -> str:
    """Core/Tools.php::noHtml, which the models' test() apply to observaciones."""
    for char, entity in (("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        text = text.replace(char, entity)
    return text.strip()


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def make_handler(state: FakeApi, prefix: str = "/erp/api/3/") -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            resource, record_id, query = self.route()
            if resource is None:
                return None
            if record_id is None:
                return self.list(resource, query)
            state._wait("GET", resource, False)
            row = state.record(resource, record_id) if resource in MODELS else None
            if row is None:
                return self.reply(404, {"error": "record-not-found"})
            return self.reply(200, _public(row))

        def do_PUT(self) -> None:
            resource, record_id, _ = self.route("PUT")
            if resource is None:
                return None
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            values = {k: v[-1] for k, v in form.items()}
            state._wait("PUT", resource, False)
            if state.fail_with is not None:
                return self.reply(state.fail_with, {"error": "API-ERROR: database is gone"})
            if record_id is None or resource not in MODELS:
                return self.reply(404, {"error": "record-not-found"})
            status, body = state.put(resource, record_id, values)
            state._wait("PUT", resource, True)
            return self.reply(status, body)

        def route(self, method: str = "GET") -> tuple[str | None, str | None, dict[str, Any]]:
            parts = urlsplit(self.path)
            rest = parts.path.removeprefix(prefix).split("/")
            token = self.headers.get("X-Auth-Token") or self.headers.get("Token")
            if token != TOKEN:
                self.reply(401, {"status": "error", "message": "auth-token-invalid"})
                return None, None, {}
            resource = rest[0]
            if resource not in state.data or resource in state.missing:
                self.reply(404, {"status": "error", "message": "api-resource-invalid"})
                return None, None, {}
            if method == "PUT" and resource in state.read_only:
                self.reply(403, {"status": "error", "message": "forbidden"})
                return None, None, {}
            record_id = unquote(rest[1]) if len(rest) > 1 and rest[1] else None
            return resource, record_id, parse_qs(parts.query)

        def list(self, resource: str, query: dict[str, Any]) -> None:
            limit = int(query.get("limit", ["50"])[0])
            offset = int(query.get("offset", ["0"])[0])
            filters = {k[7:-1]: v[-1] for k, v in query.items() if k.startswith("filter[")}
            rows = state.data[resource]
            columns = set().union(*(r.keys() for r in rows)) if rows else set()
            bad = [f for f in filters if f not in columns]
            if bad:
                return self.reply(400, {"error": f"api: fields not allowed: {', '.join(bad)}"})
            rows = [r for r in rows if all(str(r.get(k)) == v for k, v in filters.items())]
            state.requests.append((resource, limit, offset))
            headers = {"X-Total-Count": str(len(rows))} if state.total_count else {}
            page = [_public(r) for r in rows[offset : offset + limit]]
            return self.reply(200, page, headers)

        def reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def serve_api(state: FakeApi) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/erp"
    finally:
        for held in state.holds:
            held.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def api() -> Iterator[tuple[str, FakeApi]]:
    state = FakeApi()
    for url in serve_api(state):
        yield url, state


Mutation = Callable[[FakeApi], None]
