"""A local stand-in for AWS Lambda's Invoke API, for the gate's asynchronous hand-offs.

AWS cannot be reached from the tests, so this speaks the part of the Lambda API the gate
uses, as AWS's own reference defines it, and boto3 talks to it through `endpoint_url`:

- AWS Lambda API Reference, "Invoke"
  (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
  ``POST /2015-03-31/functions/{FunctionName}/invocations`` with the event as the body;
  the header ``X-Amz-Invocation-Type: Event`` asks for an asynchronous invocation, whose
  answer is ``202`` with no payload. An unknown function is ``404`` with
  ``x-amzn-ErrorType: ResourceNotFoundException`` (the API's errors; botocore reads the
  error code from that header).
- AWS Lambda Developer Guide, "Invoking a Lambda function asynchronously"
  (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html): Lambda puts
  the event in a queue, answers, and a separate process later sends it to the function.

`LambdaApi.run_queued()` is that later: it calls each queued event's function handler
with the decoded JSON body as the event and a context object, the way the Lambda
runtime calls ``handler(event, context)``. The test chooses when, so it can look at
everything that happened while the request was being answered, and only then let the
asynchronous invocation run. Not tested here: AWS itself (IAM, the real queue's retries).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from typing import Any

import pytest

from tests.local_http import serving

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/?]+)/invocations(?:\?.*)?$")
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class Invocation:
    """One call of the Invoke API as it arrived."""

    function: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> Any:
        return json.loads(self.body)


@dataclass
class LambdaApi:
    url: str
    functions: dict[str, Handler] = field(default_factory=dict)
    invocations: list[Invocation] = field(default_factory=list)
    queued: list[Invocation] = field(default_factory=list)

    def run_queued(self) -> list[Any]:
        """Run the asynchronous invocations queued so far; what each handler returned."""
        results = []
        while self.queued:
            invocation = self.queued.pop(0)
            context = SimpleNamespace(
                function_name=invocation.function, aws_request_id=str(uuid.uuid4())
            )
            results.append(self.functions[invocation.function](invocation.event, context))
        return results

    def client_options(self) -> dict[str, Any]:
        """What `boto3.client("lambda", ...)` needs to reach this stand-in."""
        return {
            "endpoint_url": self.url,
            "region_name": "eu-west-1",
            "aws_access_key_id": "AKIDEXAMPLE",
            "aws_secret_access_key": "secret",
        }


def _handler_class(api: LambdaApi) -> type[BaseHTTPRequestHandler]:
    class InvokeApi(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            match = INVOKE_PATH.match(self.path)
            if match is None:
                return self._error(404, "UnknownOperationException", self.path)
            invocation = Invocation(match.group(1), dict(self.headers), body)
            api.invocations.append(invocation)
            if invocation.function not in api.functions:
                message = f"Function not found: {invocation.function}"
                return self._error(404, "ResourceNotFoundException", message)
            if self.headers.get("X-Amz-Invocation-Type") != "Event":
                message = "this stand-in takes asynchronous (Event) invocations only"
                return self._error(400, "InvalidParameterValueException", message)
            api.queued.append(invocation)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _error(self, status: int, kind: str, message: str) -> None:
            data = json.dumps({"Type": "User", "message": message}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("x-amzn-ErrorType", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return InvokeApi


@pytest.fixture
def lambda_api() -> Iterator[LambdaApi]:
    api = LambdaApi("")
    with serving(_handler_class(api)) as api.url:
        yield api
