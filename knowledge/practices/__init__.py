"""Practice entries as YAML data (loaded by knowledge.entries)."""
