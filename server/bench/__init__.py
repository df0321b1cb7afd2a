"""`memoria bench ...` commands: each prints figures, and one JSON object with --json."""
