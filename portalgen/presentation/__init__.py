"""How portalgen speaks and looks, shared by everything that writes for people: the
portal's pages and PDFs, the emails, and the gate's own pages.

- `languages`: the languages, each one's Babel locale, and which are offered.
- `catalogs`: the compiled gettext catalogs, the customer's language, the locale to
  format in.
- `theme`: where templates and static assets come from, and whether its colours read well.
- `compiled`: the templates' compiled code, kept between runs (pages, PDFs, emails).

Light on purpose (no Jinja, no WeasyPrint): the gate imports it. `compiled` is the one
module that imports Jinja, and only the renderers import it.
"""
