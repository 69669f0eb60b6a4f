"""Quality control: rules as data (rules.yaml), pure flag transforms per domain, screening."""
