"""The ``medqdeg`` command line.

    medqdeg evaluate [--model ID_OR_PATH] [--backend transformers|openai|inference-providers|chance]
                     [--config default] [--source S] [--data-dir D | --revision R] [--samples T] [--temperature 1.0]
                     [--confidence sampling|letter-probs|both] [--batch-size B] [--limit N]
                     [--output DIR] [--resume] [--shard i/N] [--judge-model M [--judge-base-url URL]] ...
    medqdeg report DIR            (re)write results.json, report.md and plots of a run folder
    medqdeg compare DIR... --out OUT [--paper]
    plus the dataset builder's commands (degrade, degradations, build-dataset, push-dataset)
    and the Space's (space, push-space) and the metrics' (metrics install, push-metric).

Errors are one-line messages with exit code 2; a run with failed items exits 1 after
its summary (its finished items are kept; ``--resume`` asks the failed ones again).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from medqdeg.dataset_builder.cli import add_commands as add_dataset_commands
from medqdeg.dataset_builder.errors import InvalidInputError, MedQDegError
from medqdeg.dataset_builder.vocabulary import LEVEL_NAMES
from medqdeg.metrics.cli import add_commands as add_metric_commands
from medqdeg.space.cli import add_commands as add_space_commands

from .backends import BACKENDS
from .prompt import PAPER_TEMPLATE


def _shard(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected i/N such as 0/4, got {text!r}")
    return int(match[1]), int(match[2])


def _evaluate(args: argparse.Namespace) -> int:
    from .run import EvalConfig, evaluate

    try:
        template = Path(args.template).read_text() if args.template else PAPER_TEMPLATE
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInputError("template", f"{args.template!r} cannot be read ({error.__class__.__name__})",
                                "a readable text file holding {question} and {options}") from None
    backend_options = {key: value for key, value in {
        "dtype": args.dtype, "device": args.device, "trust_remote_code": args.trust_remote_code or None,
        "base_url": args.base_url, "concurrency": args.concurrency, "timeout": args.timeout,
        "max_retries": args.max_retries,
    }.items() if value is not None}
    output = Path(args.output) if args.output else Path("runs") / re.sub(r"[^\w.-]+", "_", args.model or "chance")
    config = EvalConfig(
        model=args.model, backend=args.backend, dataset_config=args.config, source=args.source,
        data_dir=args.data_dir, revision=args.revision, limit=args.limit, dataset_seed=args.dataset_seed,
        splits=tuple(args.splits), samples=args.samples, temperature=args.temperature,
        confidence=args.confidence, batch_size=args.batch_size, max_new_tokens=args.max_new_tokens,
        seed=args.seed, template=template, system=args.system, output=output, resume=args.resume,
        shard=args.shard, cache_dir=args.cache_dir, backend_options=backend_options,
        judge_model=args.judge_model,
        judge_options={"base_url": args.judge_base_url} if args.judge_base_url else {},
    )
    if args.judge_base_url and not args.judge_model:
        raise InvalidInputError("judge-base-url", "is given without --judge-model",
                                "--judge-model M to ask the answer judge, or no --judge-base-url")
    summary = evaluate(config)
    print(f"{config.model or 'chance'}: {summary.answered} answered, {summary.skipped} already done, "
          f"{len(summary.failed)} failed; results in {summary.output}")
    if config.judge_model is not None:
        print(f"answer judge {config.judge_model}: {summary.judged} record(s) judged now, "
              f"{len(summary.judge_failed)} failed (asked again with --resume)")
    report = summary.output / "report.md"
    if report.exists():
        print(report.read_text())
    if summary.failed:
        print(f"{len(summary.failed)} item(s) failed (rerun with --resume to ask them again):", file=sys.stderr)
        for item_id, error in summary.failed[:20]:
            print(f"  {item_id}: {error}", file=sys.stderr)
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from .report import write_report

    folder = Path(args.folder)
    if not folder.is_dir():
        raise InvalidInputError("folder", f"{str(folder)!r} is not a folder", "a run folder of `medqdeg evaluate`")
    write_report(folder)
    print((folder / "report.md").read_text())
    return 0


def _compare(args: argparse.Namespace) -> int:
    from .report import compare_runs

    print(compare_runs(args.folders, args.out, paper=args.paper))
    print(f"wrote {Path(args.out) / 'leaderboard.md'} and {Path(args.out) / 'leaderboard.png'}")
    return 0


def _add_evaluate(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("evaluate", help="run a model (default: the chance baseline) on MedQ-Deg")
    run.add_argument("--model", help="Hub id, local folder, or API model name (default: chance baseline)")
    run.add_argument("--backend", default="auto", choices=["auto", *BACKENDS],
                     help="inference-providers: a Hub model through the Hugging Face router, token from $HF_TOKEN")
    run.add_argument("--config", default="default", help="MedQ-Deg configuration (default, clean, a type)")
    run.add_argument("--source", default="embedded")
    run.add_argument("--data-dir", help="the source's files; without it an external source is fetched from the Hub")
    run.add_argument("--revision", help="branch, tag or commit of the source's Hub dataset (no --data-dir)")
    run.add_argument("--limit", type=int, help="first N clean items")
    run.add_argument("--dataset-seed", type=int, default=0)
    run.add_argument("--splits", nargs="+", default=list(LEVEL_NAMES))
    run.add_argument("--samples", type=int, default=3, help="T sampled answers per item")
    run.add_argument("--temperature", type=float, default=1.0)
    run.add_argument("--confidence", default="sampling", choices=["sampling", "letter-probs", "both"])
    run.add_argument("--batch-size", type=int, default=8)
    run.add_argument("--max-new-tokens", type=int, default=32)
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--template", help="file holding a prompt template with {question} and {options}")
    run.add_argument("--system", help="system prompt")
    run.add_argument("--output", help="run folder (default: runs/<model>)")
    run.add_argument("--resume", action="store_true", help="continue a run: skip finished items")
    run.add_argument("--shard", type=_shard, help="this process's share i/N")
    run.add_argument("--cache-dir", help="datasets cache for the generated benchmark")
    run.add_argument("--dtype", help="transformers: auto, bfloat16, float16, float32")
    run.add_argument("--device", help="transformers: cpu, cuda, cuda:1, auto")
    run.add_argument("--trust-remote-code", action="store_true", help="transformers: run the model's own code")
    run.add_argument("--base-url", help="openai, inference-providers: server URL (default: $OPENAI_BASE_URL; the Hub router)")
    run.add_argument("--concurrency", type=int, help="openai, inference-providers: requests in flight")
    run.add_argument("--timeout", type=float, help="openai, inference-providers: seconds per request")
    run.add_argument("--max-retries", type=int, help="openai, inference-providers: retries on 429, 5xx, timeouts")
    run.add_argument("--judge-model",
                     help="off by default (the paper scores by rules only): an OpenAI-compatible model that "
                          "reads again the replies the rules leave unparseable; recorded apart, and the report "
                          "gives accuracy with and without it. Key from $OPENAI_API_KEY")
    run.add_argument("--judge-base-url", help="the judge's server URL (default: $OPENAI_BASE_URL)")
    run.set_defaults(run=_evaluate)

    report = commands.add_parser("report", help="write results.json, report.md and plots of a run folder")
    report.add_argument("folder")
    report.set_defaults(run=_report)

    compare = commands.add_parser("compare", help="leaderboard across run folders (Markdown and PNG)")
    compare.add_argument("folders", nargs="+")
    compare.add_argument("--out", required=True)
    compare.add_argument("--paper", action="store_true",
                         help="add the paper's published L0/L1/L2 accuracies as labelled reference rows")
    compare.set_defaults(run=_compare)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medqdeg", description="MedQ-Deg toolkit")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_evaluate(commands)
    add_dataset_commands(commands)
    add_space_commands(commands)
    add_metric_commands(commands)
    return parser


EXTRAS = {"torch": "hf", "transformers": "hf", "accelerate": "hf", "evaluate": "metrics", "openai": "api",
          "gradio": "space", "gradio_client": "space"}
"""The optional dependency behind each extra of pyproject.toml, to name the extra a user lacks."""


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except MedQDegError as error:
        print(f"medqdeg: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # an optional dependency of an extra that was not installed
        package = (error.name or "").split(".")[0]
        if package not in EXTRAS:
            raise
        print(f"medqdeg: error: `medqdeg {args.command}` needs the `{package}` package, which is not installed; "
              f'install its extra: pip install "medqdeg[{EXTRAS[package]}]"', file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
