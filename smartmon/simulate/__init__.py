"""Realistic raw feeds for the tiers and sources that have no public data here (`smartmon simulate`).

Every value is derived from real data nearby (the national hourly archive, county seats), every
assumption is stated in the module that makes it and in the README ("Simulated feeds")."""
