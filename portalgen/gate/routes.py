"""The gate's routes: one table. Adding a route is one line here and a view function.

Views are ``view(gate, request, **args) -> Response``. POST views that need a signed-in
customer start with ``visit = gate.require_visit(request); gate.check_post(request, visit)``
(session, same origin, CSRF token); bodies are size-limited for every request.
"""

from __future__ import annotations

from portalgen.gate import (
    views_access,
    views_interact,
    views_pay,
    views_portal,
    views_preview,
    views_upload,
    views_verify,
)
from portalgen.gate.request import Route

ROUTES: list[Route] = [
    Route("/", views_access.home),
    Route("/l/<token>", views_access.open_link, ("GET", "POST")),
    Route("/code", views_access.code, ("GET", "POST")),
    Route("/code/change", views_access.change_code, ("GET", "POST")),
    Route("/link", views_access.request_link, ("GET", "POST")),
    Route("/logout", views_access.logout, ("POST",)),
    Route("/signed-out", views_access.signed_out),
    Route("/_gate/gate.css", views_access.stylesheet),
    Route("/favicon.ico", views_access.favicon),
    Route("/verify", views_verify.verify),
    Route("/_gate/verify.js", views_verify.script),
    Route("/portal/quotes/<slug>/accept", views_interact.accept, ("POST",)),
    Route("/portal/quotes/<slug>/reject", views_interact.reject, ("POST",)),
    Route("/portal/comments", views_interact.comment, ("POST",)),
    Route("/portal/invoices/<slug>/pay", views_pay.pay, ("POST",)),
    Route("/pay/redsys/notify", views_pay.redsys_notify, ("POST",)),
    Route("/pay/stripe/webhook", views_pay.stripe_webhook, ("POST",)),
    Route("/_gate/pay.js", views_pay.script),
    Route("/portal/invoices/<slug>/proof", views_upload.upload, ("POST",)),
    Route("/portal/invoices/<slug>/proof/start", views_upload.start, ("POST",)),
    Route("/portal/invoices/<slug>/proof/done", views_upload.done, ("POST",)),
    Route("/s/<token>/", views_preview.serve, defaults={"path": ""}),
    Route("/s/<token>/<path:path>", views_preview.serve),
    Route("/portal/", views_portal.serve, defaults={"path": ""}),
    Route("/portal/<path:path>", views_portal.serve),
]
