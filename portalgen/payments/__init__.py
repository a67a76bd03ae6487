"""Paying an invoice from the portal: card and Bizum through Redsys, card and SEPA
debit through Stripe Checkout (docs/payments.md).

Plain functions over storage and the providers' libraries, used by the gate's views
(portalgen/gate/views_pay.py). Nothing here imports the gate, the renderer or click.

- invoices.py: the invoices as published (``_live/invoices.json``): what may be paid.
- records.py: payment attempts and the record of each provider transaction.
- redsys.py, stripe_checkout.py: each provider's request and signed notification.
- providers.py: the configured providers, their secrets read from the environment.
- settle.py: a verified notification matched against its attempt, recorded once.
- overdue.py: payments made in the portal that the export still shows unpaid.
"""
