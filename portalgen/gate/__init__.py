"""The gate: the WSGI app customers reach their portal through (serve, AWS Lambda)."""

from portalgen.gate.app import Gate, Route, SendLink
from portalgen.gate.factory import create_app

__all__ = ["Gate", "Route", "SendLink", "create_app"]
