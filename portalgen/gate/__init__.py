"""The gate: the WSGI app customers reach their portal through (serve, AWS Lambda)."""

from portalgen.gate.app import Gate
from portalgen.gate.factory import create_app
from portalgen.gate.request import Route, SendLink

__all__ = ["Gate", "Route", "SendLink", "create_app"]
