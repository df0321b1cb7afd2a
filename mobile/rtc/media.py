"""Where local media comes from: files and desktop devices through aiortc's MediaPlayer.

A source is named by a short spec so the same app runs on a desktop, in tests and on a phone:
  ""/"none"             nothing (the mic sends silence, the camera is off)
  PATH or file:PATH     a media file (a video file loops; an audio file plays once)
  v4l2:/dev/video0      a Linux webcam        pulse:default / alsa:default   a Linux mic
  android               the phone's camera/mic (mobile.android_media; only on Android)
"""

from __future__ import annotations

import os
from pathlib import Path

from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamTrack

from mobile.errors import AppError

_DEVICE_FORMATS = {"v4l2", "pulse", "alsa", "avfoundation", "dshow"}


def _player(spec: str, kind: str) -> MediaPlayer:
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in _DEVICE_FORMATS:
        options = {"framerate": "25", "video_size": "640x480"} if kind == "video" else {}
        return MediaPlayer(rest, format=scheme, options=options)
    path = Path(rest if sep and scheme == "file" else spec)
    if not path.is_file():
        raise AppError(f"The {kind} file {path} does not exist.")
    if kind == "video":
        return MediaPlayer(str(path), loop=True)
    return MediaPlayer(str(path))


def open_source(spec: str, kind: str) -> MediaStreamTrack | None:
    """The source track for a spec, or None for "none"; raises AppError with a readable reason."""
    spec = spec.strip()
    if spec in ("", "none"):
        return None
    if spec == "android":
        from mobile.android_media import android_source

        return android_source(kind)
    try:
        player = _player(spec, kind)
    except AppError:
        raise
    except Exception as exc:  # PyAV raises many kinds for a missing device or bad file
        raise AppError(f"Cannot open the {kind} source '{spec}': {exc}") from exc
    track = player.video if kind == "video" else player.audio
    if track is None:
        raise AppError(f"'{spec}' has no {kind} in it.")
    return track


def media_spec(kind: str) -> str:
    """Which camera/mic to use: MEMORIA_APP_CAMERA / MEMORIA_APP_MIC, else the platform's own."""
    env = os.environ.get(f"MEMORIA_APP_{'CAMERA' if kind == 'video' else 'MIC'}")
    if env is not None:
        return env
    from kivy.utils import platform

    if platform == "android":
        return "android"
    if kind == "video":
        return "v4l2:/dev/video0" if Path("/dev/video0").exists() else "none"
    return "pulse:default"
