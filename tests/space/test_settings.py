"""Host configuration: the allowlist syntax, environment variables, command-line overrides."""

from __future__ import annotations

import pytest

from medqdeg.dataset_builder.errors import InvalidInputError
from medqdeg.space.settings import (
    CHANCE_ENTRY,
    ModelEntry,
    SpaceSettings,
    from_environment,
    parse_models,
)


def test_parse_models_kinds_and_labels():
    models = parse_models("tiny=/models/tiny, org/name\nopenai:gpt-4o@http://127.0.0.1:8000/v1,openai:o3")
    assert models == (
        ModelEntry("tiny", "transformers", "/models/tiny"),
        ModelEntry("org/name", "transformers", "org/name"),
        ModelEntry("openai:gpt-4o@http://127.0.0.1:8000/v1", "openai", "gpt-4o", "http://127.0.0.1:8000/v1"),
        ModelEntry("openai:o3", "openai", "o3"),
    )
    assert parse_models(["chance", "x=org/x"])[0].backend == "chance"


@pytest.mark.parametrize("bad", ["a=x, a=y", "=org/name", "label=", "openai:"])
def test_parse_models_refuses(bad):
    with pytest.raises(InvalidInputError, match="models"):
        parse_models(bad)


def test_chance_is_always_first():
    settings = SpaceSettings(models=parse_models("tiny=/m, org/name"))
    assert settings.model_labels == ["chance", "tiny", "org/name"]
    assert SpaceSettings().allowlist == (CHANCE_ENTRY,)
    assert SpaceSettings(models=parse_models("base=chance")).model_labels == ["base"]


def test_from_environment_and_overrides(tmp_path, monkeypatch):
    env = {"MEDQDEG_SPACE_MODELS": "tiny=/m", "MEDQDEG_SPACE_RUNS": "hf://datasets/org/runs",
           "MEDQDEG_SPACE_ALLOW_ANY_MODEL": "yes", "MEDQDEG_SPACE_MAX_UPLOAD_MB": "1.5",
           "MEDQDEG_SPACE_MAX_PIXELS": "1000000", "MEDQDEG_SPACE_CONCURRENCY": "3"}
    settings = from_environment(env)
    assert settings.model_labels == ["chance", "tiny"]
    assert settings.runs_location() == "hf://datasets/org/runs"
    assert settings.allow_any_model is True
    assert settings.max_upload_bytes == int(1.5 * 2**20) and settings.max_pixels == 1_000_000
    assert settings.concurrency == 3
    overridden = from_environment(env, models=["other=org/other"], runs=str(tmp_path), concurrency=None)
    assert overridden.model_labels == ["chance", "other"] and overridden.runs == str(tmp_path)
    assert overridden.concurrency == 3
    with pytest.raises(InvalidInputError, match="ALLOW_ANY_MODEL"):
        from_environment({"MEDQDEG_SPACE_ALLOW_ANY_MODEL": "maybe"})
    with pytest.raises(InvalidInputError, match="MAX_PIXELS"):
        from_environment({"MEDQDEG_SPACE_MAX_PIXELS": "-5"})


def test_default_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert SpaceSettings().runs_location() is None
    (tmp_path / "runs").mkdir()
    assert SpaceSettings().runs_location() == "runs"
