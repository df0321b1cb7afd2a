"""Shared persona pieces: memory retrieval, the guard, emotion, care, summaries and prompts.

Backends (plugins/grounded, plugins/gemini, plugins/openai_compatible) build on these; every
backend's reply goes through `guard.guarded` so the same rules hold whichever model answers.
"""
