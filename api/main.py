"""The producer's HTTP API: `uvicorn api.main:app`.

Routes stay thin: reading and validating an upload and publishing it live in
`api.uploads`, `api.validation` and `api.publisher`; job state lives in `resizeq.storage`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.metrics import count_rejection, uploads_total
from api.observability import RequestObservability
from api.publisher import Publisher
from api.schemas import ErrorView, JobView, error_responses, upload_form_schema
from api.uploads import Services, accept_upload
from api.validation import InvalidParameters
from resizeq.errors import BrokerUnavailable, InvalidUpload, StorageUnavailable
from resizeq.logs import configure_logging
from resizeq.messages import FILE_EXTENSIONS, MEDIA_TYPES
from resizeq.settings import Settings, load_settings
from resizeq.storage import JobRecord, Storage

logger = logging.getLogger(__name__)

STARTUP_CONNECT_WAIT_S = 5.0


class ApiKeyRejected(InvalidUpload):
    """The request lacks a valid API key."""

    def __init__(self) -> None:
        super().__init__(401, "a valid API key is required in the X-API-Key header")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API for `settings` (read from the environment when not given)."""
    settings = settings or load_settings()
    services = Services(settings, Storage(settings.storage_dir), Publisher(settings))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format)
        services.publisher.start()
        connected = await asyncio.to_thread(
            services.publisher.wait_until_connected, STARTUP_CONNECT_WAIT_S
        )
        logger.info("API started; broker %s", "connected" if connected else "not reachable yet")
        yield
        await asyncio.to_thread(services.publisher.stop)
        logger.info("API stopped")

    app = FastAPI(
        title="resizeq",
        version="0.1.0",
        summary="Upload an image; get it back resized, through RabbitMQ and a pool of workers.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.add_middleware(RequestObservability)
    _add_error_handlers(app, settings)
    _add_upload_routes(app, settings)
    app.include_router(jobs)
    app.include_router(probes)
    return app


def _add_error_handlers(app: FastAPI, settings: Settings) -> None:
    @app.exception_handler(InvalidUpload)
    async def invalid_upload(request: Request, error: InvalidUpload) -> JSONResponse:
        if request.url.path in ("/images", "/uploadfile/"):
            count_rejection(error.status_code)
        detail = error.errors if isinstance(error, InvalidParameters) else error.detail
        headers = {"WWW-Authenticate": "ApiKey"} if error.status_code == 401 else None
        return JSONResponse({"detail": detail}, error.status_code, headers=headers)

    retry_after = {"Retry-After": str(settings.retry_after_s)}

    @app.exception_handler(BrokerUnavailable)
    async def broker_unavailable(request: Request, error: BrokerUnavailable) -> JSONResponse:
        uploads_total.labels("unavailable", error.reason).inc()
        logger.warning("upload refused: %s", error.detail)
        return JSONResponse({"detail": error.detail}, 503, headers=retry_after)

    @app.exception_handler(StorageUnavailable)
    async def storage_unavailable(request: Request, error: StorageUnavailable) -> JSONResponse:
        uploads_total.labels("unavailable", "storage_down").inc()
        logger.warning("upload refused: %s", error)
        return JSONResponse({"detail": str(error)}, 503, headers=retry_after)


def _require_api_key(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="Required when API_KEYS is set.")] = None,
) -> None:
    accepted_keys = request.app.state.services.settings.api_keys
    if not accepted_keys:
        return
    offered = (x_api_key or "").encode()
    if not any(hmac.compare_digest(offered, key.encode()) for key in accepted_keys):
        raise ApiKeyRejected()


def _job_json(record: JobRecord, status_code: int = 200) -> JSONResponse:
    headers = {"Location": f"/images/{record.id}"} if status_code == 202 else None
    return JSONResponse(asdict(record), status_code, headers=headers)


def _add_upload_routes(app: FastAPI, settings: Settings) -> None:
    """POST /images and its twin for clients of the original challenge."""
    for path, name in (("/images", "upload_image"), ("/uploadfile/", "upload_file_compat")):
        app.add_api_route(
            path, _upload, methods=["POST"], status_code=202, name=name,
            dependencies=[Depends(_require_api_key)], response_model=JobView,
            responses=error_responses(400, 401, 413, 415, 422, 431, 503),
            openapi_extra=upload_form_schema(settings),
            summary="Upload an image to be resized",
            description="Answers 202 only once the broker has confirmed the job.",
        )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDependency = Annotated[Services, Depends(_services)]


async def _upload(request: Request, services: ServicesDependency) -> JSONResponse:
    record = await accept_upload(request, services)
    return _job_json(record, 202)


async def _read_job(job_id: str, services: Services) -> JobRecord:
    record = await run_in_threadpool(services.storage.read_record, job_id)
    if record is None:
        raise InvalidUpload(404, f"no job with id {job_id[:64]!r}")
    return record


jobs = APIRouter(dependencies=[Depends(_require_api_key)])
probes = APIRouter()


@jobs.get("/images/{job_id}", response_model=JobView, summary="The status of a job",
          responses=error_responses(401, 404))
async def job_status(job_id: str, services: ServicesDependency) -> JSONResponse:
    return _job_json(await _read_job(job_id, services))


@jobs.get("/images/{job_id}/content", response_class=FileResponse,
          summary="The resized image, once the job is done",
          responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                           "description": "The resized image."},
                     **error_responses(401, 404, 409)})
async def job_content(job_id: str, services: ServicesDependency) -> FileResponse:
    record = await _read_job(job_id, services)
    if record.status != "done":
        reason = f": {record.error}" if record.error else ""
        raise InvalidUpload(409, f"job {job_id!r} is {record.status}{reason}")

    path = services.storage.result_path(job_id, FILE_EXTENSIONS[record.format])
    if not path.is_file():
        raise InvalidUpload(404, f"the result of job {job_id!r} is no longer stored")
    return FileResponse(path, media_type=MEDIA_TYPES[record.format],
                        headers={"Cache-Control": "private, max-age=31536000, immutable"})


@probes.get("/healthz", summary="200 while the process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


@probes.get("/readyz", summary="200 while the broker is reachable and storage is writable",
            responses={503: {"model": ErrorView}})
async def readyz(services: ServicesDependency) -> JSONResponse:
    problems = [] if services.publisher.is_connected else ["the broker is not reachable"]
    storage_problem = await run_in_threadpool(services.storage.check_writable)
    problems += [storage_problem] if storage_problem else []
    if problems:
        return JSONResponse({"detail": "; ".join(problems)}, 503)
    return JSONResponse({"status": "ready"})


@probes.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


app = create_app()
