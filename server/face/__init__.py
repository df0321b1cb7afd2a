"""The face: photo analysis at upload, per-photo preparation, and the replay cache of renders.

Importing this package is cheap; mediapipe and OpenCV load on first use.
"""
