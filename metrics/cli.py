"""``medqdeg metrics install`` and ``medqdeg push-metric``: the evaluate modules by name.

    medqdeg metrics install [NAME ...]     let evaluate.load("NAME") find the packaged modules
    medqdeg push-metric --repo ORG/NAME [--metric calibration_shift] [--private]
                        [--requirement "medqdeg @ git+https://..."]

``add_commands`` adds both to the ``medqdeg`` parser (see ``medqdeg.metrics.modules``).
"""

from __future__ import annotations

import argparse

from .modules import MODULES, install_modules, push_metric


def _install(args: argparse.Namespace) -> int:
    for path in install_modules(args.names or None):
        name = path.stem
        print(f"{name}: evaluate.load({name!r}) now finds {path}")
    return 0


def _push(args: argparse.Namespace) -> int:
    url = push_metric(args.repo, metric=args.metric, private=args.private, requirement=args.requirement)
    print(f"{url} (load it with evaluate.load({args.repo!r}))")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``metrics install`` and ``push-metric`` to the ``medqdeg`` command line."""
    metrics = commands.add_parser("metrics", help="the evaluate metric modules shipped with medqdeg")
    actions = metrics.add_subparsers(dest="metrics_command", required=True)
    install = actions.add_parser("install", help="make evaluate.load('calibration_shift') etc. work by name, "
                                 "offline, from any folder (copies the modules into evaluate's module cache)")
    install.add_argument("names", nargs="*", metavar="NAME",
                         help=f"the modules to install (default: all of {', '.join(MODULES)})")
    install.set_defaults(run=_install)

    push = commands.add_parser("push-metric", help="upload a metric module folder to the Hub as a metric Space")
    push.add_argument("--repo", required=True, help="ORG/NAME of the Space; evaluate.load('ORG/NAME') loads it")
    push.add_argument("--metric", choices=MODULES,
                      help="the packaged metric to upload (default: NAME when it is one of them)")
    push.add_argument("--private", action="store_true")
    push.add_argument("--requirement", help="the line that installs medqdeg on the Space, replacing the "
                      "placeholder in requirements.txt (e.g. 'medqdeg @ git+https://...')")
    push.set_defaults(run=_push)
