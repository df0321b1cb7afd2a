"""Users, avatars and what they are made of (photos, voice samples, personality, memories).

Controllers are thin: they parse, call a service, and return a schema. Services own the rules
(ownership, limits, upload order) and raise `server.errors` types; the app turns those into JSON.
"""
