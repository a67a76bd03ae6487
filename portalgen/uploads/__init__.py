"""Proofs of payment customers upload from an invoice's page (issue 16, docs/payments.md).

- magic.py: what the bytes are (PDF, JPEG, PNG), whatever the file is called.
- clamd.py: a small client of ClamAV's daemon (INSTREAM).
- check.py: the checks every proof passes before it is recorded.
- records.py: where proofs and their records live (``_uploads/<customer_key>/``).
- presign.py: the S3 presigned POST a browser uploads with, straight to the bucket.
- sweep.py: what was posted to S3 and never taken, deleted after a day.

Light on purpose: the gate imports these at request time (never boto3 at import).
"""

from portalgen.uploads.check import UploadRefused, Verdict, inspect
from portalgen.uploads.records import MAX_SIZE, UploadRecord, all_records, customer_records

__all__ = [
    "MAX_SIZE",
    "UploadRecord",
    "UploadRefused",
    "Verdict",
    "all_records",
    "customer_records",
    "inspect",
]
