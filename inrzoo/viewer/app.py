"""The viewer's HTTP face: JSON and PNG endpoints over one run, retrieval index or bench folder, and the
page that uses them.

Only what the command line named is served: no request value reaches the file system (the page
and its script are package data, read by fixed name). A bad value is HTTP 4xx with ``{"error": one line}``;
an unexpected failure is a 500 with one line too, never a traceback.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from inrzoo.viewer.bench import ViewedBench
from inrzoo.viewer.kinds import Viewed
from inrzoo.viewer.search import DEFAULT_TOP_K, ViewedIndex
from inrzoo.viewer.session import Decoded, ViewedRun, ViewerInputError

#: Decoded frames never change for a run that is being viewed: let the browser keep them.
FRAME_CACHE = "public, max-age=3600"
#: The page for each kind of folder; every file the server may send is named here.
PAGES = {ViewedRun: "index.html", ViewedIndex: "search.html", ViewedBench: "bench.html"}
STATIC = ("viewer.js", "search.js", "bench.js", "viewer.css")
_MEDIA = {"html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}


def create_app(viewed: Viewed) -> Any:  # noqa: ANN401 - a FastAPI app (imported lazily: an optional extra)
    """The ASGI app serving ``viewed``: a run, a retrieval index or a bench folder (``pip install 'inrzoo[view]'``)."""
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    app = FastAPI(title="inrzoo view", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(ViewerInputError)
    async def _bad_value(request: Request, err: ViewerInputError) -> JSONResponse:
        return JSONResponse({"error": str(err)}, status_code=err.status)

    @app.exception_handler(Exception)
    async def _failure(request: Request, err: Exception) -> JSONResponse:
        line = (str(err).strip().splitlines() or [type(err).__name__])[-1][:300]
        return JSONResponse({"error": f"decoding failed: {line}"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _malformed(request: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return JSONResponse({"error": f"{where or 'request'}: {first.get('msg', 'invalid value')}"}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _not_here(request: Request, err: HTTPException) -> JSONResponse:
        what = "no such endpoint for what this viewer serves" if err.status_code == 404 else str(err.detail)
        return JSONResponse({"error": f"{what}: {request.url.path}"}, status_code=err.status_code)

    def static(name: str) -> Response:
        text = files("inrzoo.viewer").joinpath("static", name).read_text(encoding="utf-8")
        return Response(text, media_type=_MEDIA[name.rsplit(".", 1)[1]])

    @app.get("/")
    def page() -> Response:
        return static(PAGES[type(viewed)])

    @app.get("/static/{name}")
    def asset(name: str) -> Response:
        if name not in STATIC:  # fixed names only: nothing here is a path
            raise ViewerInputError(f"no such file {name!r}", 404)
        return static(name)

    @app.get("/api/meta")
    def meta() -> dict[str, Any]:
        return viewed.metadata()

    if isinstance(viewed, ViewedRun):
        _run_routes(app, viewed)
    elif isinstance(viewed, ViewedIndex):
        _search_routes(app, viewed)
    else:
        _bench_routes(app, viewed)
    return app


def png(decoded: Decoded) -> Any:  # noqa: ANN401 - a FastAPI Response
    from fastapi.responses import Response

    headers = {"Cache-Control": FRAME_CACHE, "X-Decode-Ms": f"{decoded.decode_ms:.2f}"}
    return Response(decoded.png, media_type="image/png", headers=headers)


def _run_routes(app: Any, viewed: ViewedRun) -> None:  # noqa: ANN401
    """Frames on demand, between frames, at any scale, beside the source."""
    from fastapi.responses import Response

    @app.get("/api/frame/{index}.png")
    def frame(index: int, scale: float = 1.0) -> Response:
        return png(viewed.frame(index, scale))

    @app.get("/api/time.png")
    def at_time(t: float, interpolator: str = "run") -> Response:
        return png(viewed.at_time(t, interpolator))

    @app.get("/api/truth/{index}.png")
    def truth(index: int) -> Response:
        return png(viewed.truth(index))

    @app.get("/api/metrics")
    def metrics() -> dict[str, Any]:
        psnr = viewed.frame_psnr()
        worst = min(range(len(psnr)), key=psnr.__getitem__)
        return {"frame_psnr": psnr, "worst_frame": worst, "mean_psnr": sum(psnr) / len(psnr)}


def _search_routes(app: Any, viewed: ViewedIndex) -> None:  # noqa: ANN401
    """Text search, "more like this", and thumbnails decoded from each video's latents."""
    from fastapi.responses import Response

    @app.get("/api/search")
    def search(text: str, top_k: int = DEFAULT_TOP_K) -> dict[str, Any]:
        return viewed.search_text(text, top_k)

    @app.get("/api/similar/{video}")
    def similar(video: int, top_k: int = DEFAULT_TOP_K) -> dict[str, Any]:
        return viewed.similar(video, top_k)

    @app.get("/api/thumbnail/{video}.png")
    def thumbnail(video: int, frame: int | None = None) -> Response:
        return png(viewed.thumbnail(video, frame))


def _bench_routes(app: Any, viewed: ViewedBench) -> None:  # noqa: ANN401
    """The leaderboard and the rate-distortion points of one bench run."""

    @app.get("/api/bench")
    def bench() -> dict[str, Any]:
        return viewed.table()
