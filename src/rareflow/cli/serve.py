"""``rareflow serve [STORE | SCENARIO ...] [--port P] [--host H] [--allow-remote]``: the
dashboard (a local Dash web app) of a run store; see docs/dashboard.md."""

from __future__ import annotations

import typer

from rareflow.cli.common import handle_errors


@handle_errors
def serve(
    what: list[str] = typer.Argument(None, metavar="[STORE | SCENARIO ...]",
                                     help="A run store folder, or scenarios to run and show "
                                          "(default: the bundled dashboard runs)."),
    port: int = typer.Option(8050, "--port", "-p", min=0, max=65535, help="TCP port (0: any free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless --allow-remote)."),
    allow_remote: bool = typer.Option(False, "--allow-remote",
                                      help="Allow a --host other than loopback (the app has no login)."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, max=64,
                                help="Workers for the scenario runs made before serving."),
) -> None:
    """Serve the dashboard of a run store (or of scenarios) on http://127.0.0.1:PORT/."""
    from rareflow.app.server import is_local_host
    from rareflow.errors import RareflowInputError

    if not is_local_host(host) and not allow_remote:
        raise RareflowInputError.single(
            f"refusing to serve on '{host}': the dashboard has no login; bind a loopback "
            "address (127.0.0.1, ::1, localhost) or add --allow-remote", path="--host")
    from pathlib import Path

    from werkzeug.serving import make_server

    from rareflow.app.build import resolve_store
    from rareflow.app.data import load_store
    from rareflow.app.server import create_app

    root = resolve_store(list(what or []), workers=workers)
    data = load_store(Path(root))
    if not data.static:
        raise RareflowInputError.single(f"'{root}' has no finished static (run) runs to show", path="STORE")
    app = create_app(data)
    srv = make_server(host, port, app.server, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    print(f"rareflow dashboard of {root}: http://{shown}:{srv.server_port}/ (Ctrl-C stops)", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()
