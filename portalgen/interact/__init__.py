"""What customers do in their portal: decide quotes and comment on documents.

Plain functions over storage, used by the gate's views (portalgen/gate/views_interact.py)
and by staff commands. Light on purpose: the gate imports these at request time.

- decisions.py: the quote index the renderer publishes, decision records
  (``_decisions/<customer_key>/<slug>.json``, first decision wins) and the checks a
  decision must pass.
- comments.py: comment records (``_comments/<customer_key>/<thread>/<ulid>.json``) and
  reading a document's thread.
- pending.py: quotes decided in the portal that the export still shows pending.
- recover.py: decisions whose audit event was lost to a crash get it back.
"""

from portalgen.interact.comments import CommentRecord, add_comment, load_thread, thread_of
from portalgen.interact.decisions import (
    ActionRefused,
    DecisionForm,
    DecisionRecord,
    QuoteFacts,
    check_decidable,
    read_decision,
    store_decision,
)

__all__ = [
    "ActionRefused",
    "CommentRecord",
    "DecisionForm",
    "DecisionRecord",
    "QuoteFacts",
    "add_comment",
    "check_decidable",
    "load_thread",
    "read_decision",
    "store_decision",
    "thread_of",
]
