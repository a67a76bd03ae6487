"""FacturaScripts doctransformations: which document was made from which."""

from __future__ import annotations

from collections import defaultdict

from portalgen.load.facturascripts.tables import Row


class DocumentLinks:
    """doctransformations: which document was made from which (line by line, deduplicated)."""

    def __init__(self, rows: list[Row]) -> None:
        self._up: dict[tuple[str, int], set[tuple[str, int]]] = defaultdict(set)
        self._down: dict[tuple[str, int], set[tuple[str, int]]] = defaultdict(set)
        for row in rows:
            m1, i1, m2, i2 = (row.get(c) for c in ("model1", "iddoc1", "model2", "iddoc2"))
            if None not in (m1, i1, m2, i2):
                self._up[m2, i2].add((m1, i1))
                self._down[m1, i1].add((m2, i2))

    def parent_ids(self, model: str, doc_id: int, parent_model: str) -> list[int]:
        return sorted(i for m, i in self._up.get((model, doc_id), ()) if m == parent_model)

    def children(self, model: str, doc_id: int, child_model: str) -> list[int]:
        return sorted(i for m, i in self._down.get((model, doc_id), ()) if m == child_model)

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
