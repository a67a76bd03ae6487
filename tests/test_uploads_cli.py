"""Staff see proofs of payment: `portalgen uploads list|get` and `audit tail`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from portalgen.cli import cli
from portalgen.uploads.records import customer_records
from tests.gate_fixtures import GateWorld
from tests.interact_fixtures import signed_in
from tests.upload_fixtures import PDF, UNPAID, send_proof


def run(world: GateWorld, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    config = tmp_path / "staff.yaml"
    storage = world.storage.location.removeprefix("file://")
    audit = str(world.settings.audit.path)
    config.write_text(json.dumps({"storage": {"url": storage}, "audit": {"path": audit}}))
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"PORTALGEN_SECRET": "s" * 40}
    )
    return result.exit_code, result.stdout, result.stderr


def test_staff_list_and_get_a_proof(june_world: GateWorld, tmp_path: Path) -> None:
    client = signed_in(june_world)
    assert (
        send_proof(client, PDF, name="pago mayo.pdf", note="Pagado\ndesde Valencia").status_code
        == 303
    )
    (record,) = customer_records(june_world.storage, june_world.key("C00007"))

    code, out, _ = run(june_world, tmp_path, "uploads", "list")
    assert code == 0
    assert out.splitlines() == [
        f"2026-06-15 10:30  C00007 {record.contact} invoice {UNPAID}: pago mayo.pdf "
        f'({len(PDF)} bytes, application/pdf)  {record.id}  note: "Pagado\\ndesde Valencia"'
    ]
    code, out, _ = run(june_world, tmp_path, "uploads", "list", "--json", "--customer", "C00008")
    assert (code, json.loads(out)) == (0, [])

    target = tmp_path / "got.pdf"
    code, out, _ = run(june_world, tmp_path, "uploads", "get", record.id, "-o", str(target))
    assert code == 0 and target.read_bytes() == PDF
    # a proof changed in storage since the gate checked it is not handed out
    june_world.storage.put(record.key, b"%PDF-1.4 other", "application/pdf")
    code, _, err = run(june_world, tmp_path, "uploads", "get", record.id, "-o", str(target))
    assert code == 1 and "missing or changed" in err
    code, _, err = run(june_world, tmp_path, "uploads", "get", "01NOSUCHUPLOAD")
    assert code == 1 and "no upload" in err

    code, out, _ = run(june_world, tmp_path, "audit", "tail")
    assert f"uploaded a proof of payment for invoices/{UNPAID}.html" in out
