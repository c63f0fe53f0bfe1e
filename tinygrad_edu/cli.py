"""``tinygrad-edu``: the command line. Each subcommand lives in ``tinygrad_edu/commands/<name>.py``."""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ["demo", "show", "train", "trace", "bench", "tutorial"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinygrad-edu",
        description="A small autograd framework that shows how a transformer's MLP block stores a fact.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tinygrad_edu.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"tinygrad_edu.commands.{name}":
                continue
            raise
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.add_argument("--backend", choices=["python", "numpy"], default=None,
                             help="where the numbers live (default: $TINYGRAD_EDU_BACKEND or python)")
        if not getattr(module, "SAVES_OUTPUT", False):
            command.add_argument("--export", metavar="FILE", default=None,
                                 help="also save what the command prints as FILE (.svg, .html or .txt)")
        command.set_defaults(run=module.run, export=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.export:
        from .commands import EXPORT_SUFFIXES
        if not args.export.lower().endswith(EXPORT_SUFFIXES):
            parser.error(f"--export {args.export}: the file must end in {', '.join(EXPORT_SUFFIXES)}")
    if args.backend:
        from . import set_backend
        try:
            set_backend(args.backend)
        except ImportError as error:
            parser.error(str(error))
    code = args.run(args) or 0
    if args.export:
        from .commands import recording, save_export
        if recording:
            save_export(args.export, title="tinygrad-edu " + " ".join(argv if argv is not None else sys.argv[1:]))
        else:
            print(f"tinygrad-edu: {args.command} printed nothing to export", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
