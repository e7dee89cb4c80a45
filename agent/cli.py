"""``mlagent``: the command-line interface (serve, chat, and each tool's own subcommands).

argparse keeps start-up fast (``mlagent review`` must not pay for torch or LangGraph imports); every tool area
adds its subcommands through an ``add_parser(subparsers)`` function in its own module. Usage errors print one
line on stderr and exit 2; nothing prints a traceback at a user.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import re
import sys
from typing import Any, NoReturn

from pydantic import ValidationError

from core.errors import UsageError

# Modules that contribute subcommands; each defines add_parser(subparsers).
SUBCOMMAND_MODULES = (
    "tools.review.cli",
    "tools.cli_codegen",
    "sandbox.cli",
    "tools.fixrun.cli",
    "tools.abtest.cli",
)
# The same rule as agent.chat.THREAD_ID_PATTERN, repeated so that the CLI does not import LangChain to parse.
_THREAD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors become UsageError (one line, exit 2) instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _load_settings(**overrides: Any) -> Any:
    from core.settings import Settings

    try:
        return Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "settings"
        raise UsageError(f"invalid configuration: {where}: {first.get('msg')}") from None


def _debug() -> bool:
    """Whether internal errors show their traceback (``MLAGENT_DEBUG=1``); false when the settings are invalid."""
    try:
        return bool(_load_settings().debug)
    except UsageError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API with uvicorn, after checking the configuration (fails fast on bad LLM settings)."""
    import uvicorn

    from agent.llm import LLMConfigError, build_chat_model
    from agent.logging_setup import configure_logging
    from agent.service import create_app
    from agent.storage import StorageError, acquire_data_dir, check_database

    settings = _load_settings(host=args.host, port=args.port)
    configure_logging(settings.log_level)
    try:
        build_chat_model(settings)
    except LLMConfigError as error:
        raise UsageError(f"LLM configuration: {error}") from None
    owner = f"mlagent serve on http://{settings.host}:{settings.port}"
    try:
        # Held until the process exits: a second server on this data directory is refused here, before it
        # binds a port, rather than losing turns to this one (agent/storage.py).
        acquire_data_dir(settings.data_dir, owner)
        check_database(settings)
    except StorageError as error:
        raise UsageError(str(error)) from None
    app = create_app(settings.model_copy(update={"llm_startup_check": False}))
    app.state.data_dir_owner = owner
    from agent.http_server import uvicorn_options

    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        **uvicorn_options(settings),
    )
    return 0


async def _chat_in_process(message: str, thread_id: str | None) -> dict[str, Any]:
    from agent.llm import LLMConfigError
    from agent.llm.errors import LLMError
    from agent.service import create_app, open_agent
    from agent.storage import DataDirBusy, StorageError

    settings = _load_settings()
    app = create_app(settings)
    app.state.data_dir_owner = "mlagent chat (in-process)"
    try:
        async with open_agent(app, settings):
            turn = await app.state.chat.turn(message, thread_id)
    except LLMConfigError as error:
        raise UsageError(f"LLM configuration: {error}") from None
    except DataDirBusy as error:
        url = str(error.holder.get("owner", "")).rpartition(" on ")[2]
        hint = f"talk to it with --url {url}" if url.startswith("http") else "use --url to talk to a server"
        raise UsageError(f"{error.args[0].split('; ')[0]}: {hint}, or stop it") from None
    except StorageError as error:
        raise UsageError(str(error)) from None
    except LLMError as error:  # the model timed out or failed (MLAGENT_LLM_ON_ERROR=error)
        raise UsageError(f"{error.code}: {error.message}") from None
    result: dict[str, Any] = turn.as_dict()
    return result


def _chat_over_http(url: str, message: str, thread_id: str | None) -> dict[str, Any]:
    import httpx

    headers = {}
    key = _load_settings().api_key
    if key:
        headers["Authorization"] = f"Bearer {key.get_secret_value()}"
    payload: dict[str, Any] = {"message": message}
    if thread_id:
        payload["thread_id"] = thread_id
    try:
        response = httpx.post(f"{url.rstrip('/')}/v1/chat", json=payload, headers=headers, timeout=600)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise UsageError(f"cannot reach the server at {url}: {error}") from None
    try:
        body: dict[str, Any] = response.json() if response.content else {}
    except ValueError:
        raise UsageError(
            f"{url} answered HTTP {response.status_code} with something other than JSON: is it an mlagent server?"
        ) from None
    if not isinstance(body, dict):
        raise UsageError(
            f"{url} answered HTTP {response.status_code} with unexpected JSON: is it an mlagent server?"
        )
    if response.status_code >= 400:
        error_body = body.get("error", {}) if isinstance(body, dict) else {}
        raise UsageError(
            f"server answered {response.status_code}: {error_body.get('message', response.text)}"
        )
    return body


def cmd_chat(args: argparse.Namespace) -> int:
    """One chat turn: against a server (--url, MLAGENT_URL, or the one serving this data directory), else
    in-process; the line after the reply says which."""
    message = sys.stdin.read() if args.message == "-" else args.message
    if not message.strip():
        raise UsageError("the message is empty")
    if args.thread is not None and not _THREAD_ID.fullmatch(args.thread):
        # The server refuses such ids too: a thread created in-process under one could never be read back.
        raise UsageError(f"invalid --thread {args.thread!r}: use 1-128 letters, digits, '_', '.', ':' or '-'")
    result = _one_turn(args, message, args.thread)
    _print_turn(result, args.format)
    pending = result.get("pending_action")
    if pending:
        answer = _approval_answer(args)
        if answer is None:
            print(
                f"[waiting for approval: answer with  mlagent chat yes --thread {result['thread_id']}  "
                "(or no)]",
                file=sys.stderr,
            )
        else:
            _print_turn(_one_turn(args, answer, result["thread_id"]), args.format)
    return 0


def _chat_target(args: argparse.Namespace) -> tuple[str | None, str]:
    """Where a turn runs: (server URL or None for in-process, how it was chosen, said after each turn).

    ``--url``, then MLAGENT_URL, then the server holding this data directory (the same threads and experiments
    as in-process, so using it is the same conversation); otherwise in-process on the data directory.
    """
    settings = _load_settings()
    if args.url:
        return args.url, f"server {args.url} (--url)"
    if settings.url:
        return settings.url, f"server {settings.url} (MLAGENT_URL)"
    from agent.storage import serving_url

    url = serving_url(settings.data_dir)
    if url:
        return url, f"server {url}, which holds the data directory {settings.data_dir.resolve()}"
    return None, f"in-process, data in {settings.data_dir.resolve()}"


def _one_turn(args: argparse.Namespace, message: str, thread_id: str | None) -> dict[str, Any]:
    url, used = _chat_target(args)
    if url:
        result = _chat_over_http(url, message, thread_id)
    else:
        import asyncio  # here: asyncio (and the ssl it pulls in) costs ~30 ms of every other command's start

        result = asyncio.run(_chat_in_process(message, thread_id))
    return {**result, "_used": used}


def _print_turn(result: dict[str, Any], output: str) -> None:
    used = result.pop("_used", "")
    if output == "json":
        print(json.dumps(result, indent=2, default=str))
    else:
        print(result["reply"])
    tools = ", ".join(call["name"] for call in result.get("tool_calls", []))
    print(
        f"\n[thread {result['thread_id']}{'; tools: ' + tools if tools else ''}; {used}]",
        file=sys.stderr,
    )


def _approval_answer(args: argparse.Namespace) -> str | None:
    """The answer to a pending costly run: the flag's, the user's at a terminal, or None (it stays pending)."""
    if args.approve:
        return "yes"
    if args.reject:
        return "no"
    if not sys.stdin.isatty() or args.message == "-":
        return None
    try:
        reply = input("Run it? [y/N] ").strip().lower()
    except EOFError:
        return None
    return "yes" if reply in {"y", "yes"} else "no"


def build_parser() -> argparse.ArgumentParser:
    """The full command tree."""
    parser = _Parser(prog="mlagent", description="ML Engineer Agent: an expert CV ML engineer as a service.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="bind address (default MLAGENT_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default MLAGENT_PORT or 8000)")
    serve.set_defaults(func=cmd_serve)

    chat = sub.add_parser("chat", help="one chat turn with the agent")
    chat.add_argument("message", help="the message ('-' reads it from stdin)")
    chat.add_argument("--thread", default=None, help="continue this thread id")
    chat.add_argument(
        "--url",
        default=None,
        help="talk to this server (default: MLAGENT_URL, else the server holding the data directory, "
        "else in-process)",
    )
    chat.add_argument("--format", choices=["text", "json"], default="text")
    answer = chat.add_mutually_exclusive_group()
    answer.add_argument(
        "--approve", action="store_true", help="approve a costly run the turn asks about (non-interactive)"
    )
    answer.add_argument("--reject", action="store_true", help="decline a costly run the turn asks about")
    chat.set_defaults(func=cmd_chat)

    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and name.startswith(error.name):
                continue  # that area is not installed in this build
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mlagent`` console script."""
    code = _dispatch(argv)
    if argv is None:
        # Run from the command line, so the process exits next: moving every object to the permanent
        # generation lets the interpreter's final collection skip the heap a review leaves behind (~0.1 s of
        # a cold 3,000-line review). In-process callers pass argv and keep a normal collector.
        gc.freeze()
    return code


def _dispatch(argv: list[str] | None) -> int:
    try:
        # Start-up imports allocate many objects and free almost none; pausing the cyclic collector while
        # the parser (and each command module) loads saves tens of milliseconds of every cold command.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            args = build_parser().parse_args(argv)
        finally:
            if was_enabled:
                gc.enable()
        code: int = args.func(args)
        return code
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        # Last line of defence: a bug must not print a traceback at a user (MLAGENT_DEBUG=1 shows it).
        if _debug():
            raise
        message = " ".join(str(error).split())[:300]
        print(
            f"error: internal error ({type(error).__name__}: {message}); rerun with MLAGENT_DEBUG=1 for the traceback",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
