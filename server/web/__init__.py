"""The browser pages: log in, pick or create an avatar, and the call itself (static files, no build step)."""
