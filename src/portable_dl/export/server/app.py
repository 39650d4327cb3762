"""The HTTP application: Open Inference Protocol (KServe v2 / Triton REST) endpoints over a :class:`Repository`.

Every error answers ``{"error": "..."}`` with a fitting status (400 bad request, 404 unknown model or version,
413 body too large, 503 not ready) and never a stack trace; the handlers catch everything, so a bad request
cannot take a worker down. Inference runs on each model's batcher thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from contextlib import asynccontextmanager
from typing import Any

try:
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, PlainTextResponse, Response
    from starlette.exceptions import HTTPException
except ImportError as _err:  # this module is imported only to serve, so say what to install
    raise ImportError("the server needs FastAPI and uvicorn: pip install fastapi uvicorn") from _err

from portable_dl.export.server.batching import BatcherClosedError
from portable_dl.export.server.metrics import render_metrics
from portable_dl.export.server.protocol import ProtocolError, encode_response, parse_request
from portable_dl.export.server.repository import PLATFORM, ModelVersion, Repository

__all__ = ["DEFAULT_MAX_BODY_MB", "SERVER_NAME", "create_app"]

SERVER_NAME = "portable_dl"
DEFAULT_MAX_BODY_MB = 64.0
EXTENSIONS = ["binary_tensor_data", "model_configuration"]
HEADER_LENGTH = "Inference-Header-Content-Length"
_INLINE_BYTES = 1 << 20  # bodies and results under this are parsed/encoded on the event loop


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("portable-dl")
    except PackageNotFoundError:
        return "unknown"


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def create_app(repository: Repository, *, max_body_mb: float = DEFAULT_MAX_BODY_MB) -> Any:
    """A FastAPI app serving ``repository`` (already loaded); its batchers stop when the app shuts down.
    ``max_body_mb`` bounds a request body, also after decompressing a gzip/deflate one (413 beyond it)."""
    if not max_body_mb > 0:
        raise ValueError(f"max_body_mb must be > 0, got {max_body_mb}")
    limit = int(max_body_mb * 1024 * 1024)

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield
        repository.close()

    app = FastAPI(title=SERVER_NAME, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.repository = repository

    def error(message: str, status: int = 400, **extra: Any) -> JSONResponse:
        return JSONResponse({"error": message, **extra}, status_code=status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        return error(f"{err.detail}: {request.method} {request.url.path}", err.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in err.errors())
        return error(f"bad request: {problems}", 400)

    @app.exception_handler(Exception)
    async def any_error(request: Request, err: Exception) -> JSONResponse:
        return error(f"internal server error: {_one_line(err)}", 500)

    def guarded(body: Any) -> Any:
        """Run a handler; ``ProtocolError`` becomes its status, anything else a 500, always as ``{"error"}``."""
        try:
            return body()
        except ProtocolError as err:
            return error(str(err), err.status)
        except Exception as err:
            return error(f"internal server error: {_one_line(err)}", 500)

    # ----- health and metadata --------------------------------------------------------------------------------
    @app.get("/v2/health/live")
    async def live() -> JSONResponse:
        return JSONResponse({"live": True})

    @app.get("/v2/health/ready")
    async def ready() -> JSONResponse:
        if repository.ready:
            return JSONResponse({"ready": True})
        return error("; ".join(repository.not_ready_reasons()), 503, ready=False)

    @app.get("/v2")
    async def server_metadata() -> JSONResponse:
        return JSONResponse({"name": SERVER_NAME, "version": _version(), "extensions": EXTENSIONS})

    def model_metadata(name: str, version: str | None) -> JSONResponse:
        model = repository.get(name, version)
        model.require_ready()
        numbers = [model.version] if version else sorted(repository.versions(name))
        return JSONResponse(
            {
                "name": model.name,
                "versions": [str(v) for v in numbers],
                "platform": PLATFORM,
                "inputs": model.tensor_metadata("inputs"),
                "outputs": model.tensor_metadata("outputs"),
            }
        )

    def model_ready(name: str, version: str | None) -> JSONResponse:
        model = repository.get(name, version)
        if not model.ready:
            return error(f"model {name!r} version {model.version} is not ready: {model.error}", 503, ready=False)
        return JSONResponse({"name": model.name, "version": str(model.version), "ready": True})

    def model_config(name: str, version: str | None) -> JSONResponse:
        model = repository.get(name, version)
        model.require_ready()
        return JSONResponse(model.config())

    @app.get("/v2/models/{name}")
    async def metadata_latest(name: str) -> JSONResponse:
        return guarded(lambda: model_metadata(name, None))

    @app.get("/v2/models/{name}/versions/{version}")
    async def metadata_version(name: str, version: str) -> JSONResponse:
        return guarded(lambda: model_metadata(name, version))

    @app.get("/v2/models/{name}/ready")
    async def ready_latest(name: str) -> JSONResponse:
        return guarded(lambda: model_ready(name, None))

    @app.get("/v2/models/{name}/versions/{version}/ready")
    async def ready_version(name: str, version: str) -> JSONResponse:
        return guarded(lambda: model_ready(name, version))

    @app.get("/v2/models/{name}/config")
    async def config_latest(name: str) -> JSONResponse:
        return guarded(lambda: model_config(name, None))

    @app.get("/v2/models/{name}/versions/{version}/config")
    async def config_version(name: str, version: str) -> JSONResponse:
        return guarded(lambda: model_config(name, version))

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        rows = [(m.name, str(m.version), m.stats) for m in repository]
        return PlainTextResponse(render_metrics(rows), media_type="text/plain; version=0.0.4")

    # ----- inference ------------------------------------------------------------------------------------------
    async def infer(request: Request, name: str, version: str | None) -> Response:
        started = time.perf_counter()
        model: ModelVersion | None = None
        try:
            model = repository.get(name, version)
            model.require_ready()
            body = await _read_body(request, limit)
            parsed = await _off_loop(len(body), parse_request, body, request.headers.get(HEADER_LENGTH))
            feeds, batch, wanted = model.prepare(parsed)
            outputs = await asyncio.wrap_future(model.batcher.submit(feeds, batch))
            by_name = dict(zip((o.name for o in model.runner.outputs), outputs))
            chosen = [(n, by_name[n], binary) for n, binary in wanted]
            size = sum(array.nbytes for _, array, _ in chosen)
            content, header_length = await _off_loop(
                size, encode_response, model.name, str(model.version), chosen, parsed.id
            )
        except Exception as err:
            if model is not None:
                model.stats.add(failure=1)
            return _infer_error(err, error)
        model.stats.add(success=1, request_us=int((time.perf_counter() - started) * 1e6))
        if header_length is None:
            return Response(content, media_type="application/json")
        return Response(content, media_type="application/octet-stream", headers={HEADER_LENGTH: str(header_length)})

    @app.post("/v2/models/{name}/infer")
    async def infer_latest(request: Request, name: str) -> Response:
        return await infer(request, name, None)

    @app.post("/v2/models/{name}/versions/{version}/infer")
    async def infer_version(request: Request, name: str, version: str) -> Response:
        return await infer(request, name, version)

    return app


async def _off_loop(size: int, function: Any, *args: Any) -> Any:
    """Call ``function``, on a worker thread when the data is large, so big bodies do not stall the event loop."""
    if size < _INLINE_BYTES:
        return function(*args)
    return await asyncio.to_thread(function, *args)


def _infer_error(err: Exception, error: Any) -> Any:
    """The answer to a failed inference: a ProtocolError keeps its status; the runner's input checks and ONNX
    Runtime's refusals of the data are the client's (400); a shut-down batcher is 503; anything else is 500."""
    if isinstance(err, ProtocolError):
        return error(str(err), err.status)
    if isinstance(err, BatcherClosedError):
        return error(str(err), 503)
    if isinstance(err, (ValueError, TypeError)):
        return error(_one_line(err), 400)
    if isinstance(err, RuntimeError):
        return error(f"inference failed: {_one_line(err)}", 400)
    return error(f"internal server error: {_one_line(err)}", 500)


async def _read_body(request: Any, limit: int) -> bytes:
    """The request body, refused with 413 past ``limit`` bytes (checked before and while reading, and after
    decompressing a ``Content-Encoding: gzip``/``deflate`` body)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ProtocolError(_too_large(int(declared), limit), 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(_too_large(size, limit), 413)
        chunks.append(chunk)
    body = b"".join(chunks)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise ProtocolError(f"unsupported Content-Encoding {encoding!r}; valid: gzip, deflate, identity")
    inflater = zlib.decompressobj(wbits=47)  # 32 + 15: zlib or gzip framing, detected from the header
    try:
        data = inflater.decompress(body, limit + 1)
    except zlib.error as err:
        raise ProtocolError(f"cannot decompress the {encoding} body: {err}") from None
    if len(data) > limit:
        raise ProtocolError(_too_large(len(data), limit) + " once decompressed", 413)
    if not inflater.eof:
        raise ProtocolError(f"the {encoding} body is truncated")
    return data


def _too_large(size: int, limit: int) -> str:
    return (
        f"request body of {size} byte(s) is over the limit of {limit} byte(s) ({limit / 2**20:.3g} MiB); "
        "raise it with --max-body-mb"
    )
