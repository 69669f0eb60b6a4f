"""Geography: H3 cells and GB/T 2260 admin codes."""
