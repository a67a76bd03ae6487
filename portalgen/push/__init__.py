"""Writing back into the invoicing program what happened in the portal.

`push_facturascripts` (run.py) pushes quote decisions (the quote's state), online
payments (the receipts paid) and comments (the notes) into FacturaScripts through its REST
API, exactly once and never over a change made there. docs/facturascripts.md tells staff
what is pushed where; records.py tells how "exactly once" is kept.

- client.py: the API (GET, PUT form-encoded) and its errors, one line each.
- states.py: which quote state means accepted, and which rejected.
- plans.py: per item, what to write after reading the record back; receipts.py: that
  for online payments (one receipt, or several written whole or not at all).
- items.py: what there is to push. records.py: the ``_push/`` records. notes.py: notes.
"""

from portalgen.push.client import PushError
from portalgen.push.run import Outcome, PushReport, push_facturascripts

__all__ = ["Outcome", "PushError", "PushReport", "push_facturascripts"]
