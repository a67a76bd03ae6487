"""Every refusal of the gate, proven: bad links, dead sessions, other customers' files,
traversal, CSRF and Origin, brute force on access codes. And the headers on every answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from portalgen.access.tokens import FLOW, SESSION, LinkClaims, TokenSigner, link_url
from portalgen.audit.log import AuditLog
from portalgen.gate.security import FLOW_COOKIE, SESSION_COOKIE
from tests.gate_fixtures import BASE_URL, GateWorld, csrf_of, with_code


def contact_id(world: GateWorld, email: str) -> str:
    return TokenSigner(world.secrets).contact_id(email)


def audit_types(world: GateWorld) -> list[str]:
    return [e.type for e in AuditLog(world.settings.audit.path).events()]


def assert_friendly(response, status: int, *phrases: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    for phrase in phrases:
        assert phrase in body, body
    return body


# -- links ------------------------------------------------------------------------------------


def test_opening_a_link_takes_one_click_and_scanners_start_nothing(gate_world: GateWorld) -> None:
    client = gate_world.client()
    link = gate_world.link("C00007")
    for _ in range(3):  # a mail scanner prefetching the link, several times
        page = client.get(link)
        assert page.status_code == 200
        assert "Abrir mi portal" in page.get_data(as_text=True)  # C00007 reads Spanish
        assert client.cookie(SESSION_COOKIE) is None
    assert client.get("/portal/").status_code == 403
    assert "session.started" not in audit_types(gate_world)
    response = client.post(link, {"csrf_token": csrf_of(page.get_data(as_text=True))})
    assert response.status_code == 303 and response.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert audit_types(gate_world).count("session.started") == 1
    assert client.open_link(link).status_code == 303  # the link keeps working until it expires


def test_the_token_never_lingers_after_the_exchange(gate_world: GateWorld) -> None:
    client = gate_world.client()
    response = client.sign_in(gate_world.link("C00007"))
    token = gate_world.link("C00007").rsplit("/", 1)[1]
    assert token not in response.headers["Location"]
    portal = client.get("/portal/")
    assert token not in portal.get_data(as_text=True)
    assert portal.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-3],
        lambda t: t[: len(t) // 2],
        lambda t: ("A" if t[0] != "A" else "B") + t[1:],
        lambda t: t + "x",
    ],
    ids=["truncated-signature", "cut-in-half", "tampered-payload", "extended"],
)
def test_a_damaged_link_gets_a_clear_400(gate_world: GateWorld, damage) -> None:
    token = gate_world.link("C00007").rsplit("/", 1)[1]
    bad = damage(token)
    response = gate_world.client().get(f"/l/{bad}")
    body = assert_friendly(response, 400, "no funciona")  # Spanish: the business's language
    assert bad not in body  # never echoed


def test_a_link_signed_with_another_secret_is_refused(gate_world: GateWorld) -> None:
    claims = LinkClaims(
        gate_world.key("C00007"),
        contact_id(gate_world, gate_world.grants["C00007"].links[0].email),
        1,
    )
    forged = TokenSigner(["attacker-secret-" + "a" * 40]).link_token(claims)
    assert_friendly(gate_world.client().get(f"/l/{forged}"), 400)


@pytest.mark.parametrize("purpose", [SESSION, FLOW])
def test_a_token_of_another_purpose_is_not_a_link(gate_world: GateWorld, purpose: str) -> None:
    entry = gate_world.grants["C00007"].entry
    contact = entry.contacts[0]
    payload = {
        "k": entry.customer_key,
        "c": contact_id(gate_world, contact.email),
        "g": contact.generation,
        "s": "x",
        "o": 0,
        "n": "x",
    }
    token = TokenSigner(gate_world.secrets).sign(purpose, payload)
    assert_friendly(gate_world.client().get(f"/l/{token}"), 400)
    assert_friendly(gate_world.client().post(f"/l/{token}", {}), 400)


def test_an_expired_link_gets_410_and_a_way_to_a_new_one(gate_world: GateWorld) -> None:
    link = gate_world.link("C00008")
    gate_world.clock.advance(timedelta(days=30).total_seconds() + 5)
    body = assert_friendly(gate_world.client().get(link), 410, "expired")  # C00008 reads English
    assert "contact" in body.lower()


def test_a_customer_link_max_age_is_honoured(gate_world: GateWorld) -> None:
    email = gate_world.grants["C00007"].links[0].email
    short = gate_world.service.grant("C00007", [email], max_age=timedelta(hours=1))
    gate_world.clock.advance(3700)
    assert_friendly(gate_world.client().get(short.links[0].url), 410)


def test_an_old_generation_link_dies_after_reset(gate_world: GateWorld) -> None:
    old = gate_world.link("C00007")
    fresh = gate_world.service.reset("C00007").links[0].url
    assert_friendly(gate_world.client().get(old), 410, "ya no funciona")
    assert gate_world.client().open_link(fresh).status_code == 303


def test_a_revoked_customer_link_and_session_fail_at_once(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    assert client.get("/portal/invoices/index.html").status_code == 200
    gate_world.service.revoke("C00007")
    response = client.get("/portal/invoices/index.html")
    assert_friendly(response, 410)
    assert f"{SESSION_COOKIE}=;" in response.headers.get("Set-Cookie", "")  # cleared
    assert_friendly(gate_world.client().get(gate_world.link("C00007")), 410)
    assert (
        gate_world.client().open_link(gate_world.link("C00008")).status_code == 303
    )  # others fine


def test_revoking_one_contact_leaves_the_others(gate_world: GateWorld) -> None:
    second = gate_world.service.grant("C00007", ["jefa@cliente7.example"]).links
    other = next(link for link in second if link.email == "jefa@cliente7.example")
    first, kept = gate_world.client(), gate_world.client()
    first.sign_in(gate_world.link("C00007"))
    kept.sign_in(other.url)
    gate_world.service.revoke("C00007", email=gate_world.grants["C00007"].links[0].email)
    assert_friendly(first.get("/portal/"), 410)
    assert_friendly(gate_world.client().get(gate_world.link("C00007")), 410)
    assert kept.get("/portal/").status_code == 200


def test_a_session_of_a_reset_customer_is_refused(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00008"))
    gate_world.service.reset("C00008")
    assert_friendly(client.get("/portal/"), 410, "Your access to this portal has ended")


def test_sessions_slide_while_active_and_end_when_idle(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00008"))
    for _ in range(4):  # 4 × 10 h of activity: more than the 12 h idle limit in total
        gate_world.clock.advance(10 * 3600)
        assert client.get("/portal/").status_code == 200
    gate_world.clock.advance(12 * 3600 + 60)
    assert_friendly(client.get("/portal/"), 403, "Su sesión ha terminado")  # Accept-Language: none


def test_a_session_ends_at_its_maximum_age_however_active(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00008"))
    started = gate_world.clock.now
    for _ in range(20):
        gate_world.clock.advance(11 * 3600)
        if client.get("/portal/").status_code != 200:
            break
    else:
        pytest.fail("the session outlived gate.session_max_age")
    lasted = gate_world.clock.now - started
    assert 7 * 86400 <= lasted < 7 * 86400 + 11 * 3600


def test_a_forged_or_foreign_session_cookie_is_refused(gate_world: GateWorld) -> None:
    entry = gate_world.grants["C00007"].entry
    payload = {
        "k": entry.customer_key,
        "c": contact_id(gate_world, entry.contacts[0].email),
        "g": 1,
        "s": "x",
        "o": 0,
    }
    client = gate_world.client()
    forged = TokenSigner(["attacker-secret-" + "a" * 40]).sign(SESSION, payload)
    client.client.set_cookie(SESSION_COOKIE, forged)
    assert_friendly(client.get("/portal/"), 403)
    as_link = TokenSigner(gate_world.secrets).link_token(
        LinkClaims(entry.customer_key, str(payload["c"]), 1)
    )
    client.client.set_cookie(SESSION_COOKIE, as_link)  # a link is not a session
    assert_friendly(client.get("/portal/"), 403)


# -- other customers' files, traversal --------------------------------------------------------


def test_a_session_sees_only_its_own_customer(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    own = client.get("/portal/index.html").get_data(as_text=True)
    other_key = gate_world.key("C00008")
    other_manifest = gate_world.storage.get(f"portals/{other_key}/manifest.json")
    assert other_manifest is not None
    a_blob = next(iter(json.loads(other_manifest)["files"].values()))["sha256"]
    for path in (
        f"/portal/../portals/{other_key}/manifest.json",
        f"/portal/portals/{other_key}/manifest.json",
        f"/portal/{other_key}/index.html",
        f"/portal/files/{a_blob}",
        f"/portal/../../_access/{gate_world.key('C00007')}.json",
        "/portal/../_access/index.json",
    ):
        assert client.get(path).status_code == 404, path
    assert "C00008" not in own


@pytest.mark.parametrize(
    "path",
    [
        "/portal/../index.html",
        "/portal/quotes/../../secret.key",
        "/portal/%2e%2e/%2e%2e/etc/passwd",
        "/portal/..%2f..%2fetc%2fpasswd",
        "/portal/quotes/%2e%2e%2findex.html",
        "/portal//etc/passwd",
        "/portal/quotes//index.html",
        "/portal/quotes/..%5c..%5cindex.html",
        "/portal/static/%00portal.css",
        "/portal/.manifest.json",
        "/portal/_live/quote-accepted.html",
        "/portal/" + "a/" * 600 + "index.html",
    ],
)
def test_traversal_variants_find_nothing(gate_world: GateWorld, path: str) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    response = client.get(path)
    assert response.status_code in (404, 400), (path, response.status_code)
    assert "Traceback" not in response.get_data(as_text=True)


def test_the_portal_needs_a_session(gate_world: GateWorld) -> None:
    for path in ("/portal/", "/portal/invoices/index.html", "/portal/static/portal.css"):
        assert_friendly(gate_world.client().get(path), 403, "enlace")


# -- CSRF and Origin --------------------------------------------------------------------------


def test_logout_needs_the_session_csrf_token(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    assert_friendly(client.post("/logout", {}), 403)
    assert_friendly(client.post("/logout", {"csrf_token": "0" * 64}), 403)
    stranger = gate_world.client()
    stranger.sign_in(gate_world.link("C00008"))
    assert_friendly(
        client.post("/logout", {"csrf_token": stranger.csrf()}), 403
    )  # another session's
    assert client.get("/portal/").status_code == 200  # still signed in
    response = client.post("/logout", {"csrf_token": client.csrf()})
    assert response.status_code == 303 and response.headers["Location"] == "/signed-out?lang=es"
    assert client.get("/portal/").status_code == 403
    assert "session.ended" in audit_types(gate_world)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": BASE_URL.replace("8000", "8001")},
    ],
)
def test_posts_from_another_origin_are_refused(
    gate_world: GateWorld, headers: dict[str, str]
) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    token = client.csrf()
    assert_friendly(client.post("/logout", {"csrf_token": token}, headers=headers), 403)
    link = gate_world.link("C00008")
    page = client.get(link).get_data(as_text=True)
    assert_friendly(client.post(link, {"csrf_token": csrf_of(page)}, headers=headers), 403)


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # a no-referrer page in Chromium
        {"Origin": BASE_URL},
        {},  # not a browser
    ],
)
def test_same_origin_posts_are_accepted(gate_world: GateWorld, headers: dict[str, str]) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    assert client.post("/logout", {"csrf_token": client.csrf()}, headers=headers).status_code == 303


def test_the_link_form_needs_its_cookie_and_token(gate_world: GateWorld) -> None:
    link = gate_world.link("C00007")
    assert_friendly(gate_world.client().post(link, {}), 403)  # no page seen: no flow cookie
    client = gate_world.client()
    client.get(link)
    assert_friendly(client.post(link, {"csrf_token": "forged"}), 403)
    assert client.cookie(SESSION_COOKIE) is None


def test_bodies_are_size_limited(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    response = client.post("/logout", {"csrf_token": client.csrf(), "x": "a" * 200_000})
    assert_friendly(response, 413)


# -- access codes -----------------------------------------------------------------------------


def code_step(client, link: str):
    response = client.open_link(link)
    assert response.status_code == 303 and response.headers["Location"] == "/code"
    return client.get("/code")


def test_code_form_forced_change_then_the_portal(gate_world: GateWorld) -> None:
    temporary = with_code(gate_world, "C00008")
    client = gate_world.client()
    form = code_step(client, gate_world.link("C00008"))
    assert form.status_code == 200 and 'type="password"' in form.get_data(as_text=True)
    assert client.get("/portal/").status_code == 403  # the link alone is not enough
    response = client.post(
        "/code", {"csrf_token": csrf_of(form.get_data(as_text=True)), "code": temporary.lower()}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/code/change"
    change = client.get("/code/change").get_data(as_text=True)
    token = csrf_of(change)
    bad = client.post(
        "/code/change", {"csrf_token": token, "new": "mi-codigo-1", "repeat": "otro-codigo"}
    )
    assert_friendly(bad, 400, "not the same")
    short = client.post("/code/change", {"csrf_token": token, "new": "corto", "repeat": "corto"})
    assert_friendly(short, 400, "at least 8")
    done = client.post(
        "/code/change", {"csrf_token": token, "new": "mi-codigo-1", "repeat": "mi-codigo-1"}
    )
    assert done.status_code == 303 and done.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200
    assert "code.changed" in audit_types(gate_world)
    entry = gate_world.service.registry.find("C00008")
    assert entry is not None and entry.access_code is not None and not entry.access_code.must_change
    # Next time: the customer's own code works, the temporary one does not.
    again = gate_world.client()
    form = code_step(again, gate_world.link("C00008"))
    token = csrf_of(form.get_data(as_text=True))
    assert again.post("/code", {"csrf_token": token, "code": temporary}).status_code == 403
    assert (
        again.post("/code", {"csrf_token": token, "code": "mi-codigo-1"}).headers["Location"]
        == "/portal/"
    )


def test_wrong_codes_lock_the_customer_out(gate_world: GateWorld) -> None:
    code = with_code(gate_world, "C00007", "codigo-secreto-1")
    client = gate_world.client()
    token = csrf_of(code_step(client, gate_world.link("C00007")).get_data(as_text=True))
    for attempt in range(4):
        wrong = client.post("/code", {"csrf_token": token, "code": f"wrong-{attempt}-xxxx"})
        assert_friendly(wrong, 403, "no es correcto")
    locked = client.post("/code", {"csrf_token": token, "code": "wrong-5-xxxxxx"})
    assert_friendly(locked, 429, "Demasiados códigos incorrectos")
    assert int(locked.headers["Retry-After"]) > 800
    # The right code does not help during the lockout, from this or any other browser.
    assert client.post("/code", {"csrf_token": token, "code": code}).status_code == 429
    other = gate_world.client()
    assert other.open_link(gate_world.link("C00007")).status_code == 303
    assert other.get("/code").status_code == 429
    assert audit_types(gate_world).count("code.failed") == 5
    assert audit_types(gate_world).count("code.locked") == 1
    # After the lockout the right code works and clears the count.
    gate_world.clock.advance(15 * 60 + 1)
    assert (
        client.post("/code", {"csrf_token": token, "code": code}).headers["Location"]
        == "/code/change"
    )
    entry = gate_world.service.registry.find("C00007")
    assert entry is not None and entry.access_code is not None
    assert entry.access_code.failed_attempts == 0


def test_lockouts_in_a_row_grow_longer(gate_world: GateWorld) -> None:
    with_code(gate_world, "C00007", "codigo-secreto-1")
    client = gate_world.client()
    token = csrf_of(code_step(client, gate_world.link("C00007")).get_data(as_text=True))
    for _ in range(5):
        client.post("/code", {"csrf_token": token, "code": "nope-nope-nope"})
    gate_world.clock.advance(15 * 60 + 1)
    for _ in range(5):
        last = client.post("/code", {"csrf_token": token, "code": "nope-nope-nope"})
    assert last.status_code == 429
    assert 29 * 60 < int(last.headers["Retry-After"]) <= 30 * 60  # doubled


def test_the_code_form_needs_an_opened_link(gate_world: GateWorld) -> None:
    with_code(gate_world, "C00007")
    assert_friendly(gate_world.client().get("/code"), 403)
    assert_friendly(gate_world.client().post("/code", {"code": "x"}), 403)
    assert_friendly(gate_world.client().get("/code/change"), 403)


def test_reset_gives_a_new_temporary_code_to_a_customer_who_uses_one(gate_world: GateWorld) -> None:
    first = with_code(gate_world, "C00008")
    result = gate_world.service.reset("C00008")
    assert result.code and result.code != first
    client = gate_world.client()
    token = csrf_of(code_step(client, result.links[0].url).get_data(as_text=True))
    assert client.post("/code", {"csrf_token": token, "code": first}).status_code == 403
    assert client.post("/code", {"csrf_token": token, "code": result.code}).status_code == 303


# -- headers and failures ---------------------------------------------------------------------


def test_security_headers_on_every_answer(gate_world: GateWorld) -> None:
    client = gate_world.client()
    answers = [client.get("/"), client.get("/l/broken"), client.get("/portal/")]
    client.sign_in(gate_world.link("C00007"))
    answers += [
        client.get("/portal/"),
        client.get("/portal/static/portal.css"),
        client.get("/portal/nope"),
    ]
    for response in answers:
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert answers[3].headers["Cache-Control"] == "private, no-store"


def test_session_cookies_are_httponly_lax_and_secure_except_on_localhost(
    gate_world: GateWorld,
) -> None:
    cookie = gate_world.client().sign_in(gate_world.link("C00007")).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    https = gate_world.make_gate()
    https.secure = True  # as create_app sets it for an https:// base_url
    from tests.gate_fixtures import GateClient

    cookie = GateClient(https).sign_in(gate_world.link("C00007")).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_https_base_url_means_secure_cookies() -> None:
    from portalgen.gate.security import secure_cookies

    assert secure_cookies("https://portal.example.es")
    assert secure_cookies("http://portal.example.es")  # cookies will not work: use https
    assert not secure_cookies("http://127.0.0.1:8000")
    assert not secure_cookies("http://localhost:8000/gate")


def test_a_broken_registry_entry_is_a_friendly_500(gate_world: GateWorld) -> None:
    client = gate_world.client()
    client.sign_in(gate_world.link("C00007"))
    gate_world.storage.put(
        f"_access/{gate_world.key('C00007')}.json", b"{broken", "application/json"
    )
    body = assert_friendly(client.get("/portal/"), 500, "Algo ha fallado")
    assert "StorageError" not in body and "_access" not in body


def test_a_rotated_secret_reaches_a_running_gate(gate_world: GateWorld) -> None:
    secrets = list(gate_world.secrets)
    gate = gate_world.make_gate(secrets=lambda: tuple(secrets))
    new = "rotated-secret-" + "r" * 40
    secrets.append(new)  # `portalgen secret rotate` while the gate runs
    entry = gate_world.grants["C00007"].entry
    claims = LinkClaims(entry.customer_key, contact_id(gate_world, entry.contacts[0].email), 1)
    token = TokenSigner(secrets).link_token(claims)
    gate_world.clock.advance(61)
    assert gate_world.client(gate).get(link_url(BASE_URL, token)).status_code == 200


def test_dropping_an_old_secret_ends_its_sessions_on_a_running_gate(
    gate_world: GateWorld,
) -> None:
    secrets = list(gate_world.secrets)
    gate = gate_world.make_gate(secrets=lambda: tuple(secrets))
    client = gate_world.client(gate)
    client.sign_in(gate_world.link("C00007"))  # a session signed with the old secret
    secrets.append("rotated-secret-" + "r" * 40)  # `portalgen secret rotate`
    del secrets[:-1]  # `portalgen secret drop-old`
    gate_world.clock.advance(30)
    assert client.get("/portal/").status_code == 200  # the gate reads them within 5 minutes...
    gate_world.clock.advance(280)
    assert_friendly(client.get("/portal/"), 403, "Su sesión ha terminado")  # ...then it is over


def test_flow_cookie_is_httponly(gate_world: GateWorld) -> None:
    response = gate_world.client().get(gate_world.link("C00007"))
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{FLOW_COOKIE}=") and "HttpOnly" in cookie
