"""Subcommands of ``portable-dl`` that need more than the core: each module defines ``register(subparsers)``.

They are imported only when the command line is parsed, and import their heavy dependencies (onnx,
onnxruntime) only when run, so ``portable-dl info`` stays fast and works on a core-only install.
"""

COMMANDS = ("export", "run", "bench", "serve", "launch")
