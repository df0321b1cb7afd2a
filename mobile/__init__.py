"""Memoria's phone app (Kivy): log in, set up avatars, and call them over WebRTC.

Runs on Linux desktop from the same code (`python -m mobile`) and on Android via buildozer.
Importing this package is cheap: Kivy and aiortc are imported by the modules that need them.
"""
