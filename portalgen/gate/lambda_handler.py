"""AWS Lambda entry point: ``portalgen.gate.lambda_handler.lambda_handler``.

apig-wsgi translates API Gateway HTTP API (payload 2.0) and Function URL events into
WSGI calls of the same gate `portalgen serve` runs. The gate's own asynchronous
invocations ("email me a new link" handed off by a request, selfinvoke.py) go to
link_request.receive instead, and the function's schedule (an EventBridge rule) sends
the staff notices held after a burst (scheduled.py). The gate is built at the first event from the
environment (environment.py); importing this module stays light.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from apig_wsgi import make_lambda_handler

from portalgen.gate.scheduled import is_scheduled
from portalgen.gate.selfinvoke import is_link_request

if TYPE_CHECKING:
    from portalgen.gate.app import Gate

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
_handler: Handler | None = None


def make_handler(app: Gate) -> Handler:
    """A Lambda handler over `app`: HTTP events as WSGI requests (binary bodies, PDFs
    and images, base64 encoded); a link request handed off by the gate is delivered if
    its signature holds; a scheduled event sends the held staff notices that are due
    (what either returns is for the tests: Lambda drops the result of an asynchronous
    invocation)."""
    http = make_lambda_handler(app, binary_support=True)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if is_link_request(event):
            from portalgen.gate.link_request import receive

            return {"sent": receive(app, event.get("request"))}
        if is_scheduled(event):
            from portalgen.gate.scheduled import send_held_notices

            return {"sent": send_held_notices(app)}
        answer: dict[str, Any] = http(event, context)
        return answer

    return handler


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
