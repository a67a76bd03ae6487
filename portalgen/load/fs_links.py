"""FacturaScripts doctransformations: which document was made from which."""

from __future__ import annotations

from portalgen.load.fs_tables import Row


class DocumentLinks:
    """doctransformations: which document was made from which (line by line, deduplicated)."""

    def __init__(self, rows: list[Row]) -> None:
        self.pairs: set[tuple[str, int, str, int]] = set()
        for row in rows:
            values = (row.get("model1"), row.get("iddoc1"), row.get("model2"), row.get("iddoc2"))
            if None not in values:
                self.pairs.add(values)

    def parent_ids(self, model: str, doc_id: int, parent_model: str) -> list[int]:
        return sorted(
            i1
            for m1, i1, m2, i2 in self.pairs
            if m2 == model and i2 == doc_id and m1 == parent_model
        )

    def children(self, model: str, doc_id: int, child_model: str) -> list[int]:
        return sorted(
            i2
            for m1, i1, m2, i2 in self.pairs
            if m1 == model and i1 == doc_id and m2 == child_model
        )

    def parents(
        self, model: str, doc_id: int, parent_model: str, codes: dict[str, dict[int, str]]
    ) -> list[str]:
        known = codes.get(parent_model, {})
        return [known[i] for i in self.parent_ids(model, doc_id, parent_model) if i in known]

    def parent(
        self, model: str, doc_id: int, parent_model: str, codes: dict[str, dict[int, str]]
    ) -> str:
        found = self.parents(model, doc_id, parent_model, codes)
        return found[0] if found else ""
