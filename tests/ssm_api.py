"""A local stand-in for AWS Systems Manager Parameter Store's GetParameter, for the gate on
AWS Lambda, which reads its secrets from SecureString parameters (deploy/template.yaml).

AWS cannot be reached from the tests, so this speaks the one call the gate makes, as
AWS's own reference defines it, and boto3 reaches it through ``AWS_ENDPOINT_URL_SSM``
(boto3's service-specific endpoint variable):

- AWS Systems Manager API Reference, "GetParameter"
  (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html):
  request ``{"Name": ..., "WithDecryption": true}``; answer ``{"Parameter": {"Name",
  "Type", "Value", "Version", "ARN", "DataType", ...}}``. A SecureString read without
  ``WithDecryption`` is answered with its encrypted value. An unknown name is the error
  ``ParameterNotFound`` (HTTP 400).
- The same reference, "Making API requests" / the AWS JSON 1.1 protocol: ``POST /`` with
  ``X-Amz-Target: AmazonSSM.GetParameter`` and ``Content-Type:
  application/x-amz-json-1.1``; an error is a JSON body ``{"__type": CODE, "message": ...}``.

Not tested here: AWS itself (IAM, KMS). The signature of each request is not checked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from tests.local_http import serving

TARGET = "AmazonSSM.GetParameter"


@dataclass
class SsmApi:
    url: str
    parameters: dict[str, str] = field(default_factory=dict)  # name -> SecureString value
    reads: list[dict[str, Any]] = field(default_factory=list)  # each request's body

    def environ(self) -> dict[str, str]:
        """The environment that points boto3's SSM client here."""
        return {
            "AWS_ENDPOINT_URL_SSM": self.url,
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret",
        }


def _handler_class(api: SsmApi) -> type[BaseHTTPRequestHandler]:
    class ParameterStore(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self.headers.get("X-Amz-Target") != TARGET:
                return self._answer(400, {"__type": "InvalidAction", "message": "not served"})
            api.reads.append(body)
            name = body.get("Name", "")
            if name not in api.parameters:
                return self._answer(400, {"__type": "ParameterNotFound", "message": ""})
            value = api.parameters[name]
            if not body.get("WithDecryption"):
                value = "AQICAHh-encrypted-" + str(len(value))  # what KMS left encrypted
            parameter = {
                "Name": name,
                "Type": "SecureString",
                "Value": value,
                "Version": 1,
                "ARN": f"arn:aws:ssm:eu-west-1:123456789012:parameter{name}",
                "DataType": "text",
            }
            return self._answer(200, {"Parameter": parameter})

        def _answer(self, status: int, data: dict[str, Any]) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return ParameterStore


@pytest.fixture
def ssm_api() -> Iterator[SsmApi]:
    api = SsmApi("")
    with serving(_handler_class(api)) as api.url:
        yield api
