"""Reusable widgets and the look of the app (colours, sizes)."""
