"""Choosing a file and taking a photo, awaited like any other async step.

Desktop: Kivy's own file chooser and camera widget in a popup. Android: the system picker via
plyer (shared storage needs no extra permission through it) and the same Kivy camera widget,
which buildozer backs with the Android camera.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from kivy.lang import Builder
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.popup import Popup
from kivy.utils import platform

from mobile.ui.widgets import TouchButton

PHOTO_TYPES = ["*.jpg", "*.jpeg", "*.png", "*.webp", "*.JPG", "*.JPEG", "*.PNG"]
AUDIO_TYPES = ["*.wav", "*.mp3", "*.m4a", "*.ogg", "*.opus", "*.flac", "*.webm", "*.WAV", "*.MP3", "*.M4A"]

Builder.load_string("""
<FileChooserBody>:
    orientation: 'vertical'
    spacing: dp(8)
    FileChooserListView:
        id: chooser
        path: root.start_dir
        filters: root.filters
    BoxLayout:
        size_hint_y: None
        height: dp(60)
        spacing: dp(8)
        TouchButton:
            text: 'Cancel'
            tint: 0.25, 0.27, 0.32, 1
            on_release: root.finish(None)
        TouchButton:
            text: 'Use this file'
            disabled: not chooser.selection
            on_release: root.finish(chooser.selection[0] if chooser.selection else None)
""")


class FileChooserBody(BoxLayout):
    def __init__(self, start_dir: str, filters: list[str], future: asyncio.Future[Path | None]) -> None:
        self.start_dir = start_dir
        self.filters = filters
        self.future = future
        self.popup: Popup | None = None
        super().__init__()

    def finish(self, selection: str | None) -> None:
        if not self.future.done():
            self.future.set_result(Path(selection) if selection else None)
        if self.popup is not None:
            self.popup.dismiss()


async def pick_file(title: str, filters: list[str]) -> Path | None:
    """Let the person choose a file; None if they cancel."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Path | None] = loop.create_future()
    if platform == "android":
        from plyer import filechooser

        def chosen(selection: list[str] | None) -> None:
            def deliver() -> None:
                if not future.done():
                    future.set_result(Path(selection[0]) if selection else None)

            loop.call_soon_threadsafe(deliver)

        filechooser.open_file(on_selection=chosen, filters=filters)
        return await future
    body = FileChooserBody(str(Path.home()), filters, future)
    popup = Popup(title=title, content=body, size_hint=(0.95, 0.9))
    body.popup = popup

    def dismissed(*_: object) -> None:  # must return None: a True return cancels the dismissal
        if not future.done():
            future.set_result(None)

    popup.bind(on_dismiss=dismissed)
    popup.open()
    return await future


async def take_photo() -> Path | None:
    """Show the camera, capture one picture to a PNG; None if cancelled or there is no camera."""
    from kivy.uix.camera import Camera

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Path | None] = loop.create_future()
    try:
        camera = Camera(play=True, resolution=(1280, 720), index=0)
    except Exception:  # noqa: BLE001 - no camera provider or device: offer the file chooser instead
        camera = None
    body = BoxLayout(orientation="vertical", spacing=dp(8))
    popup = Popup(title="Take a photo", content=body, size_hint=(0.95, 0.9))
    if camera is None or camera.texture is None:
        body.add_widget(Label(text="No camera was found on this device.\nChoose a photo file instead."))
    else:
        body.add_widget(camera)
    buttons = BoxLayout(size_hint_y=None, height=dp(60), spacing=dp(8))

    def capture(*_: object) -> None:
        path = Path(tempfile.mkdtemp(prefix="memoria-")) / "photo.png"
        if camera is not None and camera.texture is not None:
            camera.texture.save(str(path), flipped=False)
            if not future.done():
                future.set_result(path)
        popup.dismiss()

    cancel = TouchButton(text="Cancel", tint=[0.25, 0.27, 0.32, 1])
    cancel.bind(on_release=lambda *_: popup.dismiss())
    shoot = TouchButton(text="Capture", disabled=camera is None or camera.texture is None)
    shoot.bind(on_release=capture)
    buttons.add_widget(cancel)
    buttons.add_widget(shoot)
    body.add_widget(buttons)

    def closed(*_: object) -> None:
        if camera is not None:
            camera.play = False
        if not future.done():
            future.set_result(None)

    popup.bind(on_dismiss=closed)
    popup.open()
    return await future
