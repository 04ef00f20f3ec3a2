"""Every piece of advice in a message is a command that exists (issue 11 item 8): missing
extras name the extra, the Hub CLI is ``hf``, the CLI's flag is ``--force``, and a text file
named ``.dcm`` is refused as not DICOM (not with pydicom's ``force=True``)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from PIL import Image

from medqdeg.eval_harness.cli import main

BLOCK_TORCH = """
import importlib.abc, sys

class NoTorch(importlib.abc.MetaPathFinder):  # as after a plain `pip install .`
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoTorch())
from medqdeg.eval_harness.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_missing_torch_names_the_extra_to_install(tmp_path):
    done = subprocess.run([sys.executable, "-c", BLOCK_TORCH, "evaluate", "--model", "some/typo", "--limit", "1",
                           "--output", str(tmp_path / "run")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert 'pip install "medqdeg[hf]"' in done.stderr and "`torch`" in done.stderr
    assert not (tmp_path / "run").exists()


def test_missing_model_advises_hf_download_which_exists(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from medqdeg.eval_harness.backends.transformers_backend import TransformersBackend

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ValueError) as caught:
        TransformersBackend(str(tmp_path / "no-such-model"), device="cpu")
    message = str(caught.value)
    assert "`hf download <id>`" in message and "huggingface-cli" not in message
    hf = shutil.which("hf", path=str(__import__("pathlib").Path(sys.executable).parent)) or shutil.which("hf")
    assert hf is not None, "the advised `hf` command is not installed with huggingface_hub"
    assert subprocess.run([hf, "download", "--help"], capture_output=True).returncode == 0


def test_modality_advice_names_the_cli_flag(tmp_path, capsys):
    image = tmp_path / "ok.png"
    Image.new("L", (32, 32), 100).save(image)
    assert main(["degrade", str(image), "--type", "bubble", "--level", "2", "--modality", "CT",
                 "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "force=True" not in err
    assert main(["degrade", str(image), "--type", "bubble", "--level", "2", "--modality", "CT", "--force",
                 "-o", str(tmp_path / "o.png")]) == 0  # the advice works


def test_a_text_file_named_dcm_is_refused_as_not_dicom(tmp_path, capsys):
    text = tmp_path / "notes.dcm"
    text.write_text("patient notes, not an image\n" * 20)
    assert main(["degrade", str(text), "--type", "gaussian_noise", "--level", "1",
                 "-o", str(tmp_path / "o.png")]) == 2
    err = capsys.readouterr().err
    assert "notes.dcm: field `file` is not a DICOM file" in err
    assert "force=True" not in err and "Traceback" not in err
