"""``tinygrad-edu``: the command line. Each subcommand lives in ``tinygrad_edu/commands/<name>.py``."""
from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys

from .commands.output import Output, add_export_argument

COMMANDS = ["demo", "show", "train", "probe", "trace", "bench", "tutorial", "figures", "exercise"]


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
        add_export_argument(command, getattr(module, "EXPORT_FLAGS", ("--export",)))
        command.set_defaults(run=module.run)
    return parser


def _title(argv: list[str], flags: tuple[str, ...] = ("--export", "--save")) -> str:
    """``tinygrad-edu demo --pages 7`` for the head of an .svg: the command as typed, without the export."""
    shown, skip = [], False
    for word in argv:
        if skip:
            skip = False
        elif word in flags:
            skip = True
        elif not word.startswith(tuple(flag + "=" for flag in flags)):
            shown.append(word)
    return " ".join(["tinygrad-edu", *shown])


def main(argv: list[str] | None = None) -> int:
    """Run one command; its exit code. Ctrl-C anywhere ends it with "interrupted" and exit code 130 (as a
    shell reports SIGINT), after each command's own clean-up (progress bars and key input restore the
    terminal on the way out); no file is left half-written, as only finished work is saved."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("\ntinygrad-edu: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:         # the reader went away (| head): stop quietly, with 1 as Rich does
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # no second error at exit
        except (OSError, ValueError):
            pass
        return 1


def _main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    backend = contextlib.nullcontext()
    if args.backend:
        from . import set_backend
        try:
            backend = set_backend(args.backend)
        except ImportError as error:
            parser.error(str(error))
    args.output = Output(width=getattr(args, "width", None), export=args.export, title=_title(argv))
    with backend:       # --backend holds for this command only (main() may be called from Python)
        code = args.run(args) or 0
    if args.export:
        try:
            saved = args.output.save()
        except OSError as error:
            print(f"tinygrad-edu: cannot write {args.export}: {error.strerror or error}", file=sys.stderr)
            return 1
        if saved is None:
            print(f"tinygrad-edu: {args.command} printed nothing to export", file=sys.stderr)
        else:
            print(f"saved to {saved}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
