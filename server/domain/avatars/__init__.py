"""Avatars: the person remembered, with consent, their personality and memories."""
