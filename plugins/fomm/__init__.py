"""First Order Motion Model animator plugin."""
