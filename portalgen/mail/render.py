"""Emails from templates: ``templates/email/<kind>.txt`` and ``<kind>.html``, per language.

The text template holds the subject (``{% block subject %}``) and the plain-text body;
the HTML template the same message laid out in the company's colours with inline styles
(mail programs drop style sheets). Both are translated through the portal's gettext
catalogs and format money and dates with Babel for the customer's locale. A custom theme
overrides any of them by name, like the portal's pages (docs/portal.md).
"""

from __future__ import annotations

import functools
import gettext
import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_time
from jinja2 import Environment, StrictUndefined, Template, select_autoescape

from portalgen.config import Settings
from portalgen.domain.formatting import format_date, format_money
from portalgen.domain.model import Money
from portalgen.mail.message import Content, InlineImage
from portalgen.mail.sentences import Sentences
from portalgen.presentation.catalogs import locale_for, translations
from portalgen.presentation.compiled import CompiledTemplates, at_run_time
from portalgen.presentation.theme import load_theme

# Logos mail programs show; an SVG logo is left out (most of them do not show SVG).
_IMAGE_TYPES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif"}
MAX_LOGO_BYTES = 200_000


class EmailRenderer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.theme = load_theme(settings)
        self.logo = _logo(settings)
        self._envs: dict[str, Environment] = {}
        self._sentences: dict[str, Sentences] = {}
        # The languages' environments share the compiled templates (code does not depend on
        # the language), kept in the cache folder for the next run.
        self._code = CompiledTemplates.in_cache(settings.publish.cache_dir, "email")

    def env(self, language: str) -> Environment:
        if language not in self._envs:
            self._envs[language] = self._make_env(language)
        return self._envs[language]

    def render(self, kind: str, language: str, **context: Any) -> Content:
        """The subject and both bodies of the `kind` message (``digest``, ``invitation``...)."""
        env = self.env(language)
        text_template = env.get_template(f"email/{kind}.txt")
        values = {"language": language, **context}
        if kind == "digest":  # each item's sentence made once, for both parts
            sentences = self._sentences[language]
            values["lines"] = sentences.digest_lines(context["news"], context["today"])
        subject, text = _subject_and_text(text_template, values)
        html = env.get_template(f"email/{kind}.html").render(values, subject=subject)
        images = (self.logo,) if self.logo is not None and self.logo.cid in html else ()
        return Content(subject, _tidy(text), html, language, images)

    def _make_env(self, language: str) -> Environment:
        env = Environment(
            loader=self.theme.template_loader(),
            autoescape=select_autoescape(("html",), default_for_string=False),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            bytecode_cache=self._code,
        )
        catalog = translations(language)
        env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
        self._install_formats(env, catalog, language)
        env.globals.update(
            company=self.settings.company,
            sections=self.settings.portal.sections,
            colors={
                "primary": self.settings.theme.primary_color,
                "accent": self.settings.theme.accent_color,
            },
            font=self.settings.theme.font_family.replace('"', "'"),
            logo_cid=self.logo.cid if self.logo is not None else None,
            language=language,
        )
        return env

    def _install_formats(
        self, env: Environment, catalog: gettext.GNUTranslations, language: str
    ) -> None:
        """Money and dates for the language's locale, and the shared sentences."""
        locale = locale_for(language, self.settings)
        zone = ZoneInfo(self.settings.timezone)

        def money(value: Money | None) -> str:
            return _money(value.amount, value.currency, locale) if value is not None else ""

        def day(value: date | datetime | None, style: str = "long") -> str:
            return _date(value, locale, style, zone)

        def moment(value: datetime) -> str:
            return _datetime(value, locale, zone)

        # at run time: the compiled code serves every language
        env.filters.update(at_run_time({"money": money, "date": day, "datetime": moment}))
        sentences = Sentences(
            catalog,
            money=money,
            day=day,
            company=self.settings.company.name,
            new_link_url=self.settings.gate.base_url.rstrip("/") + "/link",
        )
        env.globals.update(sentences.globals())
        self._sentences[language] = sentences


def _subject_and_text(template: Template, values: dict[str, Any]) -> tuple[str, str]:
    """The subject block (on one line) and the text part, from one context."""
    context = template.new_context(values)
    try:
        subject = " ".join("".join(template.blocks["subject"](context)).split())
        return subject, "".join(template.root_render_func(context))
    except Exception:
        return template.environment.handle_exception()  # as Template.render reports it


@functools.lru_cache(maxsize=4096)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    # Babel parses the locale's pattern on every call; a digest repeats amounts and dates.
    return format_money(Money(amount, currency), locale)


@functools.lru_cache(maxsize=4096)
def _day(value: date, locale: str, style: str) -> str:
    return format_date(value, locale, style)


def _date(value: date | datetime | None, locale: str, style: str, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(zone).date()
    return _day(value, locale, style)


def _datetime(value: datetime, locale: str, zone: ZoneInfo) -> str:
    """A moment in the customer emails' date style (the long date) and its time:
    ``15 de junio de 2026, 12:42``."""
    local = value.astimezone(zone)
    return f"{_day(local.date(), locale, 'long')}, {format_time(local, 'short', locale=locale)}"


def _logo(settings: Settings) -> InlineImage | None:
    logo = settings.company.logo
    if logo is None or logo.suffix.lower() not in _IMAGE_TYPES:
        return None
    try:
        data = logo.read_bytes()
    except OSError:
        return None  # `portalgen check` and the build warn about a missing logo
    if len(data) > MAX_LOGO_BYTES:
        return None  # a large logo would make every message heavy: show the name instead
    digest = hashlib.sha256(data).hexdigest()[:16]
    return InlineImage(f"logo-{digest}@portalgen", data, _IMAGE_TYPES[logo.suffix.lower()])


def _tidy(text: str) -> str:
    """Plain text without trailing spaces or runs of blank lines."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"
