"""AWS Lambda entry point: ``portalgen.gate.lambda_handler.lambda_handler``.

apig-wsgi translates API Gateway HTTP API (payload 2.0) and Function URL events into
WSGI calls of the same gate `portalgen serve` runs. The gate is built at the first
event from the environment (environment.py); importing this module stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apig_wsgi import make_lambda_handler

if TYPE_CHECKING:
    from portalgen.gate.app import Gate

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_handler: Handler | None = None


def make_handler(app: Gate) -> Handler:
    """A Lambda handler over `app`. Binary bodies (PDFs, images) go base64 encoded."""
    return make_lambda_handler(app, binary_support=True)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    global _handler
    if _handler is None:
        from portalgen.gate.environment import app_from_environment

        _handler = make_handler(app_from_environment(os.environ))
    return _handler(event, context)


def reset() -> None:
    """Forget the gate (tests change the environment between cases)."""
    global _handler
    _handler = None
