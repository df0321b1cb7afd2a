"""The speech benches print the figures targets.sh reads (run here on speech the Piper voice makes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from server.speech.audio_io import write_wav

pytest.importorskip("faster_whisper")
pytest.importorskip("piper")


@pytest.fixture()
def asr_set(tmp_path: Path) -> Path:
    from server.speech.testing import say

    for name, text in {"a": "seven of hearts", "b": "please call stella"}.items():
        audio, rate = say(text)
        write_wav(tmp_path / f"{name}.wav", audio, rate)
        (tmp_path / f"{name}.txt").write_text(text + "\n")
    return tmp_path


@pytest.mark.slow
def test_bench_asr_prints_one_json_object(
    asr_set: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from server.bench.asr import command

    weights = tmp_path_factory.mktemp("w")
    monkeypatch.setenv("MEMORIA_WEIGHTS_DIR", str(weights))
    monkeypatch.setenv("MEMORIA_REGISTRY_FILE", str(tmp_path_factory.mktemp("r") / "absent.toml"))
    result = CliRunner().invoke(command, [str(asr_set), "--json", "--model", "tiny.en"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["files"] == 2
    assert data["wer"] <= 0.2, data["per_file"]
    assert data["final_after_end_ms"] is not None and data["final_after_end_ms"] >= 0
    assert data["rtf"] > 0


def test_bench_asr_needs_pairs(tmp_path: Path) -> None:
    from server.bench.asr import command

    result = CliRunner().invoke(command, [str(tmp_path), "--json"])
    assert result.exit_code != 0 and "NAME.wav + NAME.txt" in result.output
