"""Keyword components of the HilLab library, one per area of the checklist."""
