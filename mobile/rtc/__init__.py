"""The WebRTC side of a call: local media in, remote media out, events from the data channel."""
