"""Photos and voice samples: uploads, what is learned from them, and the background jobs."""
