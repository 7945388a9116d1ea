"""Data exchange hub (R4): dataset contracts, ingestion, validation, quarantine, the
pseudonymous lake, the catalog with quality figures, and sharing agreements."""
