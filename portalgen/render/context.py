"""The render context: everything that is the same for every customer in one run.

Built once per process and reused: settings, theme, the Jinja environment of each
language, the PDF engine (fonts, parsed CSS, a fetcher that only reads local theme
files), and the part of every render key that does not depend on the customer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from portalgen import __version__, slots
from portalgen.config import Settings
from portalgen.plan import fingerprint
from portalgen.presentation.catalogs import catalogs_fingerprint, locale_for, translations
from portalgen.presentation.theme import Theme, contrast_warnings, load_theme

if TYPE_CHECKING:
    from jinja2 import BytecodeCache, Environment

    from portalgen.render.pdf import PdfEngine
    from portalgen.render.seal import Sealer


def settings_fingerprint(settings: Settings) -> str:
    """What in the settings can change a page or a PDF (not storage, mail, gate...)."""
    parts: dict[str, Any] = {
        name: getattr(settings, name)
        for name in ("company", "locale", "currency", "theme", "portal", "payments")
    }
    parts["verify_url"] = verify_url(settings)  # printed in every PDF's footer
    return fingerprint(parts)


def verify_url(settings: Settings) -> str:
    """The gate's public page that checks a document: <gate.base_url>/verify."""
    return settings.gate.base_url.rstrip("/") + "/verify"


@dataclass
class RenderContext:
    settings: Settings
    today: date
    theme: Theme
    base_key: str  # portalgen version, settings, theme files, templates, catalogs
    warnings: tuple[str, ...] = ()
    # PDF key -> SHA-256 of its bytes. Filled as PDFs render; publishing may pre-fill it
    # from its cache so a page showing a PDF's fingerprint never re-renders the PDF.
    digests: MutableMapping[str, str] = field(default_factory=dict)
    render_warnings: list[str] = field(default_factory=list)  # WeasyPrint's, per render
    # Render key -> bytes already made (publishing's cache), or None: the ZIP takes its
    # PDFs from here, so changing one invoice does not re-render every other PDF.
    fetch: Callable[[str], bytes | None] | None = field(default=None, repr=False)
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # per-run derived data
    # The company's seal (signing:), or None: every PDF rendered is sealed with it.
    sealer: Sealer | None = field(default=None, repr=False)
    _envs: dict[str, Environment] = field(default_factory=dict, repr=False)
    _code: BytecodeCache | None = field(default=None, repr=False)  # shared by the languages
    _pdf: PdfEngine | None = field(default=None, repr=False)

    def locale(self, language: str) -> str:
        return locale_for(language, self.settings)

    def env(self, language: str) -> Environment:
        """The Jinja environment for `language` (gettext and formatting installed)."""
        if language not in self._envs:
            if self._code is None:
                from portalgen.presentation.compiled import CompiledTemplates

                self._code = CompiledTemplates.in_cache(self.settings.publish.cache_dir, "portal")
            env = _make_env(self.theme, language, self.locale(language), self._code)
            env.globals.update(_site_globals(self.settings, self.theme))
            # text from the export or the configuration is in the business's language:
            # on a page in another language it carries its own lang (read in its voice)
            business = self.settings.language
            env.globals["business_lang"] = business if business != language else ""
            self._envs[language] = env
        return self._envs[language]

    def pdf_engine(self) -> PdfEngine:
        if self._pdf is None:
            from portalgen.render.pdf import PdfEngine

            self._pdf = PdfEngine(self)
        return self._pdf

    def key(self, *parts: Any) -> str:
        return fingerprint(self.base_key, *parts)

    def seal(self, pdf: bytes, language: str) -> bytes:
        """`pdf` sealed with the company's certificate when `signing:` is configured,
        else unchanged. Every PDF portalgen renders goes through here."""
        if self.sealer is None:
            return pdf
        gettext = translations(language).gettext
        company = self.settings.company.display_legal_name
        label = gettext("Electronic seal of %(company)s") % {"company": company}
        return self.sealer.seal(pdf, label)


def _make_env(theme: Theme, language: str, locale: str, code: BytecodeCache) -> Environment:
    # Imported here: a run where nothing changed needs the base key, not the templates.
    from jinja2 import Environment, StrictUndefined, select_autoescape

    from portalgen.presentation.compiled import at_run_time
    from portalgen.render.filters import GLOBALS, make_filters

    env = Environment(
        loader=theme.template_loader(),
        autoescape=select_autoescape(("html", "xml", "svg"), default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        bytecode_cache=code,  # compiled once for every language, and kept for the next run
    )
    env.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(at_run_time(make_filters(locale)))  # the code serves every language
    env.globals.update(GLOBALS)
    env.globals["language"] = language
    env.globals["locale"] = locale
    return env


def _site_globals(settings: Settings, theme: Theme) -> dict[str, Any]:
    """What every template may use besides its view (all of it is in the base key)."""
    from markupsafe import Markup

    logos = sorted(p for p in theme.static if p.startswith("static/logo."))
    return {
        "company": settings.company,
        "sections": settings.portal.sections,
        "portal": settings.portal,
        "payments": settings.payments,
        "theme": settings.theme,
        "logo": logos[0] if logos else None,
        "logo_uri": theme.static[logos[0]].resolve().as_uri() if logos else None,
        "version": __version__,
        "verify_url": verify_url(settings),
        # The gate's slots are HTML comments built from constants, slugs and portal paths
        # (letters, digits, "._-/"), never from free text: safe to mark as markup.
        "csrf_slot": Markup(slots.CSRF),  # noqa: S704
        "live_end": Markup(slots.LIVE_END),  # noqa: S704
        "live_start": lambda slug: Markup(slots.live_start(slug)),  # noqa: S704
        "open_start": lambda slug: Markup(slots.open_start(slug)),  # noqa: S704
        "open_end": Markup(slots.OPEN_END),  # noqa: S704
        "awaiting_start": lambda slugs: Markup(slots.awaiting_start(slugs)),  # noqa: S704
        "awaiting_end": Markup(slots.AWAITING_END),  # noqa: S704
        "paid_start": lambda slug: Markup(slots.paid_start(slug)),  # noqa: S704
        "paid_end": Markup(slots.PAID_END),  # noqa: S704
        "paid_list": Markup(slots.PAID_LIST),  # noqa: S704
        "comments_slot": lambda path: Markup(slots.comments(path)),  # noqa: S704
        "proof_slot": lambda slug: Markup(slots.proof(slug)),  # noqa: S704
        "slots": slots,
    }


def build_context(
    settings: Settings,
    today: date | None = None,
    digests: MutableMapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> RenderContext:
    """The context for rendering every customer's portal in this run.

    With `signing.certificate` set, the seal is loaded here (its password from `environ`,
    by default the process's environment), so a wrong password stops the run before
    anything is rendered; its certificate's fingerprint is part of every render key.
    """
    theme = load_theme(settings)
    sealer = None
    if settings.signing.certificate is not None:
        from portalgen.render.seal import load_sealer

        sealer = load_sealer(settings.signing, os.environ if environ is None else environ)
    seal = (sealer.fingerprint, settings.signing.timestamp_url) if sealer else None
    base_key = fingerprint(
        __version__,
        settings_fingerprint(settings),
        theme.fingerprint,
        catalogs_fingerprint(),
        *([seal] if seal else []),
    )
    return RenderContext(
        settings=settings,
        today=today or settings.today(),
        theme=theme,
        base_key=base_key,
        warnings=(*theme.problems, *contrast_warnings(settings)),
        digests={} if digests is None else digests,
        sealer=sealer,
    )
