"""Create or edit an avatar: who they were, consent, photos, voice, personality, memories.

A new avatar is created from the first card (name, relationship, consent); the other cards
unlock once it exists, because photos, voice and memories belong to an avatar id.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from mobile.errors import AppError
from mobile.models import Avatar, AvatarDraft, Memory, Personality, Photo, VoiceSample
from mobile.recorder import VoiceRecorder
from mobile.rtc.media import media_spec, open_source
from mobile.screens.base import BaseScreen
from mobile.ui import pickers, thumbs

Builder.load_file(str(Path(__file__).with_name("avatar_form.kv")))

CONSENT_STATEMENT = (
    "I confirm that I have the right to use this person's likeness and voice, that I am creating "
    "this avatar for my own remembrance, and that I understand it is an AI made from memories, "
    "not the person."
)


class RowItem(BoxLayout):
    text = StringProperty("")
    action_text = StringProperty("Delete")
    action = ObjectProperty(lambda: None)


class PhotoThumb(BoxLayout):
    photo_id = NumericProperty(0)
    primary = BooleanProperty(False)
    choose_primary = ObjectProperty(lambda photo_id: None)

    def make_primary(self) -> None:
        if not self.primary:
            self.choose_primary(self.photo_id)


class AvatarEditScreen(BaseScreen):
    creating = BooleanProperty(True)
    recording = BooleanProperty(False)
    title = StringProperty("Add someone")
    consent_statement = StringProperty(CONSENT_STATEMENT)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.avatar: Avatar | None = None
        self._recorder: VoiceRecorder | None = None

    # -- loading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        self.avatar = self.app.current_avatar
        self.creating = self.avatar is None
        self.say("")
        for key in ("name", "relationship", "user_name", "personality", "speaking_style", "phrases", "new_memory"):
            self.ids[key].text = ""
        self.ids.consent.active = False
        self.ids.photo_advice.text = ""
        for box in ("photos", "voices", "memories"):
            self.ids[box].clear_widgets()
        if self.avatar is None:
            self.title = "Add someone"
            return
        self._fill_about(self.avatar)
        self.run(self.load_details(self.avatar.id), busy="Loading…")

    def _fill_about(self, avatar: Avatar) -> None:
        self.title = avatar.name
        self.ids.name.text = avatar.name
        self.ids.relationship.text = avatar.relationship
        self.ids.user_name.text = avatar.user_name

    async def load_details(self, avatar_id: int) -> None:
        api = self.api
        self.show_photos(await api.photos(avatar_id))
        self.show_voices(await api.voice_samples(avatar_id))
        self.show_personality(await api.personality(avatar_id))
        self.show_memories(await api.memories(avatar_id))

    # -- about and consent -----------------------------------------------------------------
    def draft(self) -> AvatarDraft:
        return AvatarDraft(
            name=self.ids.name.text.strip(),
            relationship=self.ids.relationship.text.strip(),
            user_name=self.ids.user_name.text.strip(),
            consent=bool(self.ids.consent.active),
            consent_statement=self.consent_statement,
        )

    def save(self) -> None:
        draft = self.draft()
        if not draft.name or not draft.relationship:
            self.say("Please give their name and who they were to you.", error=True)
            return
        if self.creating and not draft.consent:
            self.say("Please read the statement and tick 'I agree' to continue.", error=True)
            return
        self.run(self._save(draft), busy="Saving…")

    async def _save(self, draft: AvatarDraft) -> None:
        api = self.api
        if self.avatar is None:
            self.avatar = await api.create_avatar(draft)
            self.app.current_avatar = self.avatar
            self.creating = False
            self._fill_about(self.avatar)
            self.say("Saved. Now add photos, their voice and memories.")
        else:
            self.avatar = await api.update_avatar(self.avatar.id, draft)
            self.app.current_avatar = self.avatar
            self._fill_about(self.avatar)
            self.say("Saved.")

    # -- photos ----------------------------------------------------------------------------
    def show_photos(self, photos: list[Photo]) -> None:
        box = self.ids.photos
        box.clear_widgets()
        for photo in photos:
            thumb = PhotoThumb(photo_id=photo.id, primary=photo.is_primary, choose_primary=self.set_primary)
            box.add_widget(thumb)
            if self.app.api is not None:
                self.app.spawn(self._load_thumb(thumb))

    async def _load_thumb(self, thumb: PhotoThumb) -> None:
        if self.avatar is None:
            return
        try:
            thumb.ids.image.texture = await thumbs.photo_texture(self.api, self.avatar.id, thumb.photo_id)
        except AppError:
            pass

    def take_photo(self) -> None:
        self.run(self._photo_from(pickers.take_photo()))

    def choose_photo(self) -> None:
        self.run(self._photo_from(pickers.pick_file("Choose a photo", pickers.PHOTO_TYPES)))

    async def _photo_from(self, chooser: object) -> None:
        path = await chooser  # type: ignore[misc]
        if path is not None:
            await self.upload_photo(path)

    async def upload_photo(self, path: Path) -> Photo:
        """Upload a photo; the server checks for a face and scores it; show its advice."""
        assert self.avatar is not None
        self.say("Checking the photo…")
        photo = await self.api.upload_photo(self.avatar.id, path)
        advice = photo.quality.get("advice") if isinstance(photo.quality, dict) else None
        score = f"Photo quality {photo.quality_score:.0%}."
        self.ids.photo_advice.text = f"{score} {' '.join(advice) if isinstance(advice, list) else advice or ''}".strip()
        self.show_photos(await self.api.photos(self.avatar.id))
        self.say("Photo added.")
        return photo

    def set_primary(self, photo_id: int) -> None:
        self.run(self._set_primary(photo_id))

    async def _set_primary(self, photo_id: int) -> None:
        assert self.avatar is not None
        await self.api.set_primary_photo(self.avatar.id, photo_id)
        self.show_photos(await self.api.photos(self.avatar.id))

    # -- voice -----------------------------------------------------------------------------
    def show_voices(self, samples: list[VoiceSample]) -> None:
        box = self.ids.voices
        box.clear_widgets()
        for sample in samples:
            label = f"{sample.original_name or 'Recording'}  ·  {sample.duration_s:.1f} s"
            box.add_widget(RowItem(text=label, action=self._deleter("delete_voice", sample.id, self._reload_voices)))

    async def _reload_voices(self) -> None:
        assert self.avatar is not None
        self.show_voices(await self.api.voice_samples(self.avatar.id))

    def choose_voice(self) -> None:
        self.run(self._voice_from_file())

    async def _voice_from_file(self) -> None:
        path = await pickers.pick_file("Choose a recording of their voice", pickers.AUDIO_TYPES)
        if path is not None:
            await self.upload_voice(path)

    async def upload_voice(self, path: Path) -> VoiceSample:
        assert self.avatar is not None
        self.say("Uploading the recording…")
        sample = await self.api.upload_voice(self.avatar.id, path)
        await self._reload_voices()
        self.say(f"Recording added ({sample.duration_s:.1f} s).")
        return sample

    def toggle_recording(self) -> None:
        if self._recorder is not None:
            self._recorder.stop()
            return
        self.run(self.record_voice(media_spec("audio")))

    async def record_voice(self, spec: str, max_seconds: float = 300.0) -> VoiceSample | None:
        """Record from the mic (a source spec) with the level meter live, then upload."""
        source = open_source(spec, "audio")
        if source is None:
            raise AppError("No microphone is set up. Choose a recording file instead.")
        path = Path(tempfile.mkdtemp(prefix="memoria-")) / "voice.wav"
        self._recorder = VoiceRecorder(source, path, on_level=self._on_level)
        self.recording = True
        try:
            await self._recorder.record(max_seconds)
        finally:
            self.recording = False
            self._recorder = None
            self.ids.meter.level = 0.0
        return await self.upload_voice(path)

    def _on_level(self, level: float, seconds: float) -> None:
        self.ids.meter.level = level
        self.ids.record_time.text = f"Recording… {seconds:.0f} s"

    # -- personality and memories ----------------------------------------------------------
    def show_personality(self, value: Personality) -> None:
        self.ids.personality.text = value.personality
        self.ids.speaking_style.text = value.speaking_style
        self.ids.phrases.text = "\n".join(value.example_phrases)

    def save_personality(self) -> None:
        phrases = [line.strip() for line in self.ids.phrases.text.splitlines() if line.strip()]
        value = Personality(self.ids.personality.text.strip(), self.ids.speaking_style.text.strip(), phrases)
        self.run(self._save_personality(value), busy="Saving…")

    async def _save_personality(self, value: Personality) -> None:
        assert self.avatar is not None
        self.show_personality(await self.api.set_personality(self.avatar.id, value))
        self.say("Personality saved.")

    def show_memories(self, memories: list[Memory]) -> None:
        box = self.ids.memories
        box.clear_widgets()
        for memory in memories:
            box.add_widget(
                RowItem(text=memory.text, action=self._deleter("delete_memory", memory.id, self._reload_memories))
            )

    async def _reload_memories(self) -> None:
        assert self.avatar is not None
        self.show_memories(await self.api.memories(self.avatar.id))

    def add_memory(self) -> None:
        text = self.ids.new_memory.text.strip()
        if not text:
            self.say("Write the memory first.", error=True)
            return
        self.run(self._add_memory(text))

    async def _add_memory(self, text: str) -> None:
        assert self.avatar is not None
        await self.api.add_memory(self.avatar.id, text)
        self.ids.new_memory.text = ""
        await self._reload_memories()

    def _deleter(self, method: str, item_id: int, reload: Callable[[], Awaitable[None]]) -> Callable[[], None]:
        """A row's Delete action: call `api.<method>(avatar_id, item_id)`, then reload the list."""

        async def work() -> None:
            assert self.avatar is not None
            await getattr(self.api, method)(self.avatar.id, item_id)
            await reload()

        return lambda: self.run(work())

    # -- delete ----------------------------------------------------------------------------
    def confirm_delete(self) -> None:
        from mobile.ui.confirm import confirm

        if self.avatar is not None:
            confirm(
                f"Delete {self.avatar.name}? Their photos, voice, memories and calls are removed for good.",
                "Delete",
                self._delete,
            )

    def _delete(self) -> None:
        self.run(self._delete_now())

    async def _delete_now(self) -> None:
        assert self.avatar is not None
        await self.api.delete_avatar(self.avatar.id)
        thumbs.forget(self.avatar.id)
        self.app.go("gallery")
