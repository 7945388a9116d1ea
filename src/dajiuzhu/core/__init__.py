"""Jurisdictions, departments, staff and roles, scoping, ID numbers, crypto and audit."""
