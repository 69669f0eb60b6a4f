"""smartmon: the data and mining platform of a national smart environmental-monitoring network."""

__version__ = "0.1.0"
