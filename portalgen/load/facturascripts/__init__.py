"""Reading a FacturaScripts export: its tables, states, customers, amounts and files.

`reader.read_facturascripts` turns the exported tables into the billing model; `api`
downloads the same tables through FacturaScripts' REST API (`portalgen fetch`).
"""
