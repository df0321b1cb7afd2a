"""`memoria call` with the project's real default backends: spoken words in, a grounded reply out,
spoken in a voice learned from --voice, on an animated photo, recorded to MP4."""

from __future__ import annotations

import json
import wave
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from server.rtc.ice import use_loopback

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[3]


def write_wav(path: Path, audio: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MEMORIA_REGISTRY_FILE", str(ROOT / "plugin_registry.toml"))
    monkeypatch.setenv("MEMORIA_WEIGHTS_DIR", str(ROOT / "weights"))
    monkeypatch.setenv("MEMORIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MEMORIA_CONFIG", str(tmp_path / "none.toml"))
    yield tmp_path
    use_loopback(False)


def test_a_spoken_question_gets_a_grounded_spoken_reply_in_the_learned_voice(project: Path) -> None:
    from skimage import data

    from server.cli.call import command
    from server.speech.testing import say, silence

    photo = project / "nana.jpg"
    Image.fromarray(data.astronaut()[0:360, 76:436]).save(photo)
    sheet = project / "nana.json"
    sheet.write_text(
        json.dumps(
            {
                "name": "Ingrid",
                "relationship": "grandmother",
                "user_name": "Nils",
                "personality": "calm, wry, a retired ferry captain from Bergen",
                "speaking_style": "short sentences",
                "memories": ["She taught Nils to row a boat on the fjord every summer."],
            }
        )
    )
    question, rate = say("Do you remember teaching me to row the boat?")
    asked = write_wav(project / "q.wav", np.concatenate([silence(0.3, rate), question, silence(0.8, rate)]), rate)
    sample, sample_rate = say("The sea was calm this morning, and the gulls were loud over the harbour.")
    voice = write_wav(project / "voice.wav", sample, sample_rate)
    out = project / "call.mp4"

    result = CliRunner().invoke(
        command,
        ["--photo", str(photo), "--sheet", str(sheet), "--voice", str(voice), "--say", str(asked)]
        + ["--out", str(out), "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    (turn,) = report["turns"]
    heard = turn["transcript"].lower()
    assert "row" in heard and "boat" in heard  # Whisper heard the question
    assert "row" in turn["reply"].lower() and "fjord" in turn["reply"].lower()  # the memory, retold
    assert "Ingrid" not in turn["reply"]  # the person does not introduce themself
    assert 24 <= report["fps"] <= 26
    with av.open(str(out)) as container:
        assert container.streams.video[0].average_rate == 25
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(container.streams.audio[0])])
    assert np.abs(pcm).max() > 0.05
