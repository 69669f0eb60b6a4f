"""Domain rules from the national standards (numbers in ../shared/STANDARDS.md)."""
