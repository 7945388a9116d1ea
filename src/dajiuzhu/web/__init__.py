"""Base templates, static files, the staff workbench shell and the resident portal shell."""
