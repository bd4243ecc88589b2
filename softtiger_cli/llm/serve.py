"""`python -m softtiger_cli.llm.serve ARGS`: llama-cpp-python's OpenAI-compatible server (`llama_cpp.server`,
same arguments) with softtiger's CPU placement guard, so it does not crash on CPUs with AMX
(models/cpu.guard_process). Needs llama-cpp-python's [server] extra (uvicorn, fastapi, ...)."""

from __future__ import annotations

import runpy
import sys

from softtiger_cli.models.cpu import guard_process


def main() -> None:
    guard_process()
    sys.argv[0] = "llama_cpp.server"
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
