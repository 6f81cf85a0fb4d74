"""``inrzoo view``: serve a fitted run (frames on demand, between frames, any scale), a retrieval index (search)
or a bench folder (leaderboard, rate-distortion plot) to a local web page."""

from __future__ import annotations

from collections.abc import Sequence

from inrzoo.cli.parsing import one_line_parser
from inrzoo.errors import InrzooError
from inrzoo.options import integers

#: Ports a user may name (below 1024 needs root; 0 would pick a random one the URL could not name).
PORTS = integers(1024, 65535)


def main(argv: Sequence[str]) -> int:
    parser = one_line_parser(
        "inrzoo view", "Serve a fitted run, a retrieval index or a bench folder to a local web page.", argv
    )
    parser.add_argument(
        "path", help="a run folder, .ckpt or .inrz file, an `inrzoo index` folder or an `inrzoo bench` folder"
    )
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1", help="the address to bind (default: this machine only)")
    args = parser.parse_args(list(argv))
    if not PORTS.allows(args.port):
        raise InrzooError(f"--port must be in 1024..65535, got {args.port}")
    try:
        import uvicorn
    except ImportError:
        raise InrzooError("`inrzoo view` needs its web server: pip install 'inrzoo[view]'") from None
    from inrzoo.viewer import create_app, open_viewed

    viewed = open_viewed(args.path)  # a bad path is one error line before anything listens
    _check_free(args.host, args.port)
    app = create_app(viewed)
    print(f"inrzoo view: {viewed.title} at http://{args.host}:{args.port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _check_free(host: str, port: int) -> None:
    """A port already taken (another viewer?) is one error line, not uvicorn's log and exit."""
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as err:
        raise InrzooError(f"cannot listen on {host}:{port} ({err.strerror or err}); pick another with --port") from None
