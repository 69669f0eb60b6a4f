"""Tier-scoped data sharing over the open Delta Sharing protocol.

Downstream platforms read lake tables with any Delta Sharing client (pandas, Spark, Power BI ...)
using a profile file with a bearer token. Each token belongs to a recipient scoped to an area:
the nation sees every row, a province, city or county only the rows placed inside it.

Modules: `areas` (tier scopes as GB/T 2260 prefixes), `scoping` (how a table's rows are placed),
`shares` (infra/sharing/shares.yaml), `recipients` (tokens, stored hashed), `snapshots` (tables
read with delta-rs), `cache` (per-area filtered Parquet), `signing` (signed file URLs),
`access_log`, `provider` (authorisation and query answers), `server` (the REST API).
"""
