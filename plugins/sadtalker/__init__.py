"""SadTalker animator plugin."""
