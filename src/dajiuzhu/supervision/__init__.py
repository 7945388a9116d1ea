"""Supervision (R5): fund verification over the lake, rectification of findings by the paying
district, spot checks (SUPERVISION.md)."""
