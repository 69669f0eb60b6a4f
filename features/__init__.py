"""Feature definitions and the jobs that build feature tables (declared in smartmon/catalog/features.py)."""
