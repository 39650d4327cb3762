"""``portable-dl serve``: serve ONNX models over HTTP with the Open Inference Protocol (KServe v2 / Triton REST).

``portable-dl serve model.onnx [--name NAME] [--max-batch-size N --max-queue-delay-ms T]`` serves one file as
version 1; ``portable-dl serve --model-repository DIR`` serves a Triton-style repository (batching from each
``config.pbtxt``). Models are loaded before the server listens; in a repository a model that fails to load is
reported and left not ready (503) while the others serve. Also runnable as ``python -m portable_dl.commands.serve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from portable_dl.commands.run import EXIT_ERROR, add_session_options, guarded

DEFAULT_PORT = 8000


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", default=None, help="path of the .onnx file to serve")
    parser.add_argument(
        "--model-repository", default=None, metavar="DIR", help="serve a Triton-style model repository instead"
    )
    parser.add_argument("--name", default=None, help="model name for a single file (default: the file's stem)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    add_session_options(parser)
    parser.add_argument(
        "--max-batch-size",
        type=int,
        default=None,
        help="single file: largest batch a request may carry, and merge concurrent requests up to it (default 0: "
        "no batching; needs a symbolic batch dim)",
    )
    parser.add_argument(
        "--max-queue-delay-ms",
        type=float,
        default=None,
        help="single file: how long a request may wait for others to batch with (default 0)",
    )
    parser.add_argument("--max-body-mb", type=float, default=None, help="largest request body in MiB (default 64)")
    parser.add_argument(
        "--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"), help="server log"
    )


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="serve ONNX models over HTTP (Open Inference Protocol: KServe v2 / Triton REST)",
        description="Serve an ONNX file or a Triton-style model repository over HTTP with the Open Inference "
        "Protocol (KServe v2 / Triton REST), so tritonclient, KServe and curl work unchanged.",
    )
    add_serve_arguments(parser)
    parser.set_defaults(run=serve)


def _build(args: argparse.Namespace, built: dict[str, Any]) -> int:
    """Check the options, load the models, build the app (into ``built``); errors go through ``guarded``."""
    from portable_dl.export.server.app import DEFAULT_MAX_BODY_MB, create_app
    from portable_dl.export.server.repository import Repository

    if (args.model is None) == (args.model_repository is None):
        raise ValueError("give either a model file or --model-repository DIR (exactly one)")
    if args.model_repository is not None:
        given = [f for f in ("name", "max_batch_size", "max_queue_delay_ms") if getattr(args, f) is not None]
        if given:
            flags = ", ".join("--" + f.replace("_", "-") for f in given)
            raise ValueError(f"{flags}: only for a single model file; in a repository each config.pbtxt sets them")
        repository = Repository.from_directory(args.model_repository)
    else:
        if args.max_queue_delay_ms is not None and (args.max_batch_size or 0) < 2:
            raise ValueError("--max-queue-delay-ms needs --max-batch-size of 2 or more (requests to merge)")
        repository = Repository.single(
            args.model,
            args.name,
            max_batch_size=args.max_batch_size or 0,
            max_queue_delay_ms=args.max_queue_delay_ms or 0.0,
        )
    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be between 0 and 65535, got {args.port}")
    app = create_app(repository, max_body_mb=DEFAULT_MAX_BODY_MB if args.max_body_mb is None else args.max_body_mb)

    def warn(message: str) -> None:
        print(f"portable-dl serve: warning: {message}", file=sys.stderr)

    failures = repository.load(args.device, args.threads, args.optimization, on_warning=warn)
    loaded = [m for m in repository if m.ready]
    if failures and (args.model_repository is None or not loaded):
        repository.close()
        raise ValueError("; ".join(failures))
    for reason in repository.not_ready_reasons():
        warn(f"{reason} (the server reports not ready)")
    for model in loaded:
        batching = (
            f"dynamic batching up to {model.max_batch_size}, queue delay {model.max_queue_delay_s * 1e3:g} ms"
            if model.dynamic_batching
            else f"max batch size {model.max_batch_size}"
            if model.max_batch_size
            else "no batching"
        )
        print(f"portable-dl serve: model {model.name!r} version {model.version} on {model.runner.device}: {batching}")
    built["app"] = app
    return 0


def serve(args: argparse.Namespace) -> int:
    """Build, then run the server until interrupted."""
    built: dict[str, Any] = {}
    code = guarded("serve", lambda a: _build(a, built))(args)
    if code:
        return code
    try:
        import uvicorn
    except ImportError:
        print("portable-dl serve: error: needs uvicorn and fastapi: pip install fastapi uvicorn", file=sys.stderr)
        return EXIT_ERROR
    uvicorn.run(built["app"], host=args.host, port=args.port, log_level=args.log_level)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portable-dl serve", description="Serve ONNX models over HTTP (KServe v2)")
    add_serve_arguments(parser)
    return serve(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
