"""Wav2Lip lip-sync animator plugin."""
