"""Developer tooling for the ILL Reader Gateway (never imported by production settings)."""
