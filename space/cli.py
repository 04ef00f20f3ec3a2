"""``medqdeg space`` (serve the Space locally) and ``medqdeg push-space`` (upload it to the Hub).

    medqdeg space [--host 127.0.0.1] [--port 7860] [--runs DIR|hf://datasets/ORG/NAME]
                  [--models [LABEL=]SPEC ...] [--allow-any-model] [--max-upload-mb MB]
                  [--max-pixels N] [--concurrency N] [--device cpu|cuda|auto]
    medqdeg push-space --repo ORG/NAME [--private] [--requirement "medqdeg @ git+https://..."]

Options not given fall back to the ``MEDQDEG_SPACE_*`` environment variables (see
``medqdeg.space.settings``). ``add_commands`` adds both to the ``medqdeg`` parser.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from medqdeg.dataset_builder.errors import InvalidInputError

SPACE_FOLDER = Path(__file__).resolve().parent
PUSH_IGNORE = ("__pycache__", "*.pyc", ".gradio", "flagged", "runs")
REQUIREMENT_MARKER = "medqdeg"


def settings_from_args(args: argparse.Namespace, environ=None):
    """The Space settings: the command line's options over the environment's."""
    from .settings import from_environment

    return from_environment(
        environ,
        models=args.models,
        runs=args.runs,
        allow_any_model=True if args.allow_any_model else None,
        max_upload_bytes=None if args.max_upload_mb is None else int(args.max_upload_mb * 1024 * 1024),
        max_pixels=args.max_pixels,
        concurrency=args.concurrency,
        device=args.device,
    )


def _space(args: argparse.Namespace) -> int:
    from .app import build_app, launch_options

    settings = settings_from_args(args)
    demo = build_app(settings)
    print(f"MedQ-Deg Space on http://{args.host}:{args.port} (models: {', '.join(settings.model_labels)}; "
          f"runs: {settings.runs_location() or 'none'})")
    demo.launch(server_name=args.host, server_port=args.port, **launch_options(settings))
    return 0


def _stage(folder: Path, requirement: str | None, into: Path) -> Path:
    """A copy of the Space folder to upload, with the medqdeg requirement replaced if asked."""
    staged = into / "space"
    shutil.copytree(folder, staged, ignore=shutil.ignore_patterns(*PUSH_IGNORE))
    if requirement:
        path = staged / "requirements.txt"
        lines = path.read_text().splitlines()
        kept = [line for line in lines if not line.strip().lower().startswith(REQUIREMENT_MARKER)]
        path.write_text("\n".join([requirement, *kept]) + "\n")
    return staged


def push_space(repo_id: str, *, folder: str | Path = SPACE_FOLDER, private: bool = False,
               requirement: str | None = None, token: str | None = None) -> str:
    """Create (or reuse) the Gradio Space ``repo_id`` and upload the folder; return its URL.

    The token comes from ``token``, else huggingface_hub's own lookup (``HF_TOKEN``, the
    login cache); it is never printed.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    missing = [name for name in ("app.py", "README.md", "requirements.txt") if not (folder / name).is_file()]
    if missing:
        raise InvalidInputError("folder", f"{str(folder)!r} lacks {', '.join(missing)}",
                                "the Space folder (app.py, README.md with the Space header, requirements.txt)")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InvalidInputError("repo", f"is {repo_id!r}", "ORG/NAME")
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="medqdeg-push-space-") as scratch:
        staged = _stage(folder, requirement, Path(scratch))
        api.upload_folder(folder_path=str(staged), repo_id=repo_id, repo_type="space",
                          commit_message="Upload the MedQ-Deg Space")
    return f"https://huggingface.co/spaces/{repo_id}"


def _push(args: argparse.Namespace) -> int:
    print(push_space(args.repo, private=args.private, requirement=args.requirement))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``space`` and ``push-space`` to the ``medqdeg`` command line."""
    space = commands.add_parser("space", help="serve the Gradio Space locally (all four tabs, offline)")
    space.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    space.add_argument("--port", type=int, default=7860)
    space.add_argument("--runs", help="leaderboard run folders: DIR or hf://datasets/ORG/NAME (default: runs/)")
    space.add_argument("--models", nargs="+", metavar="[LABEL=]SPEC",
                       help="allowlist: Hub ids or folders (transformers), openai:MODEL[@URL], chance")
    space.add_argument("--allow-any-model", action="store_true", help="let visitors type any Hub model id")
    space.add_argument("--max-upload-mb", type=float, help="largest upload in MiB (default 20)")
    space.add_argument("--max-pixels", type=int, help="largest image, height x width (default 4096x4096)")
    space.add_argument("--concurrency", type=int, help="requests worked on at once (default 2)")
    space.add_argument("--device", help="transformers backend device: auto, cpu, cuda")
    space.set_defaults(run=_space)

    push = commands.add_parser("push-space", help="upload the Space folder to the Hub as a Gradio Space")
    push.add_argument("--repo", required=True, help="ORG/NAME of the Space")
    push.add_argument("--private", action="store_true")
    push.add_argument("--requirement", help="the line that installs medqdeg on the Space, replacing the "
                      "placeholder in requirements.txt (e.g. 'medqdeg[hf,space] @ git+https://...')")
    push.set_defaults(run=_push)
