"""AWS Lambda: "email me a new link" handed to an asynchronous invocation of the function.

On Lambda nothing runs after the answer, so the work `portalgen serve` does after
answering (link_request.py) would have to be done before it, and a known address would
answer later than an unknown one. Instead every `/link` request makes the same call:
Lambda's Invoke API on this very function (``AWS_LAMBDA_FUNCTION_NAME``) with
``InvocationType="Event"`` — Lambda queues the event and answers 202 at once — and then
answers. The event, ``{"portalgen": "link-request", "request": TOKEN}``, is unlike any
Function URL or API Gateway event (a client can shape only what is inside those); its
token is the request signed with the gate's secret, so an invocation made by anyone
else is refused. That invocation looks the address up and sends the link, or nothing.

When the Invoke call fails (no permission, throttled, Lambda's API out of reach), the
customer sees the same page as always and the log says so, without the address;
nothing is looked up in the request instead (its time would tell). They can ask again.

Lambda may run an asynchronous event more than once (twice more after an error; now and
then a duplicate): the invocation never raises, and a copy finds the address's claim
(one email per `gate.link_resend_interval`) taken or the hand-off too old, and sends
nothing. Importing this module stays light: boto3 loads with the first hand-off.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("portalgen.gate")
EVENT_KEY = "portalgen"
EVENT_KIND = "link-request"
ACCEPTED = 202  # the Invoke API's answer to an "Event" invocation: queued


def is_link_request(event: object) -> bool:
    """Whether a Lambda event is the gate's own hand-off (checked by its signature later)."""
    return isinstance(event, dict) and event.get(EVENT_KEY) == EVENT_KIND


def hand_off_event(token: str) -> dict[str, str]:
    return {EVENT_KEY: EVENT_KIND, "request": token}


class SelfInvoke:
    """The gate's `hand_off` on Lambda: ``self(token)`` queues an asynchronous invocation
    of `function_name` with the signed link request. Never raises (a failure is logged).
    `client_options` go to ``boto3.client("lambda", ...)`` (the tests' endpoint_url)."""

    def __init__(self, function_name: str, **client_options: Any) -> None:
        self.function_name = function_name
        self._client_options = client_options
        self._client: Any = None

    def __call__(self, token: str) -> None:
        payload = json.dumps(hand_off_event(token)).encode()
        try:
            answer = self.client().invoke(
                FunctionName=self.function_name, InvocationType="Event", Payload=payload
            )
            status = answer.get("StatusCode")
        except Exception as exc:  # botocore's errors, a network failure
            status = f"{type(exc).__name__}: {exc}"
        if status != ACCEPTED:
            log.error(
                "gate: a request for a new link could not be handed to %s (%s); no link "
                "was sent, the customer was told as always that one is on its way",
                self.function_name,
                status,
            )

    def client(self) -> Any:
        """Lambda's client, made at the first hand-off (boto3 is not loaded at start)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            # short: the customer waits for this call (the same wait for any address)
            config = Config(
                connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2}
            )
            self._client = boto3.client("lambda", config=config, **self._client_options)
        return self._client
