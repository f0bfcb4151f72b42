"""Routes that query the library: search for moments, and ask questions (the answer's trace
streamed as server-sent events while it happens)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from vidseek import views
from vidseek.kinds import KINDS
from vidseek.library import MAX_OPTION_CHARS, MAX_OPTIONS, MAX_QUESTION_CHARS
from vidseek.search.searcher import MAX_QUERY_CHARS
from vidseek.server.errors import describe, error_body
from vidseek.server.events import sse_event
from vidseek.server.media import find_video, kinds_param
from vidseek.server.videos import API
from vidseek.types import Answer

__all__ = ["router"]

router = APIRouter(prefix=API, tags=["query"])

MAX_NAME_CHARS = 4096
"""Characters of a video's name, id or path, or of a model spec, in a request."""


@router.get("/search", summary="Moments that answer a query, best first, across the library")
def search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS,
                            description="What is said, written, shown or happening.")],
    video: Annotated[list[str] | None, Query(
        max_length=100,
        description="Only these videos (file names, ids or id prefixes; repeatable).")] = None,
    kind: Annotated[list[str] | None, Query(
        description=f"Only these kinds (repeated or comma-separated): {', '.join(KINDS)}.")
    ] = None,
    k: Annotated[int, Query(ge=1, le=200, description="At most this many moments.")] = 10,
    threshold: Annotated[float | None, Query(
        ge=0, le=1, description="Score a moment needs (default: the calibrated one).")] = None,
) -> dict[str, Any]:
    library = request.app.state.library
    kinds = kinds_param(kind)
    videos = [find_video(library, v).id for v in video] if video else None
    began = time.perf_counter()
    with request.app.state.searches.held():
        moments = library.search(q, videos=videos, kinds=kinds, k=k, threshold=threshold)
    # nothing found: why, in sentences (the kinds left out, the channels this library lacks)
    hints = [] if moments else library.search_hints(kinds=kinds)
    return {"query": q, "moments": [views.moment(m, api=API) for m in moments],
            "hints": hints, "seconds": round(time.perf_counter() - began, 4)}


class BudgetRequest(BaseModel):
    """Limits on one answer (see :class:`vidseek.agent.Budget`); unset ones keep defaults."""

    steps: int | None = Field(default=None, ge=1)
    frames: int | None = Field(default=None, ge=0)
    tokens: int | None = Field(default=None, ge=1)
    seconds: float | None = Field(default=None, gt=0)


class AskRequest(BaseModel):
    video: str = Field(max_length=MAX_NAME_CHARS,
                       description="The video: its file name, id or an id prefix.")
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    options: list[Annotated[str, Field(max_length=MAX_OPTION_CHARS)]] | None = Field(
        default=None, max_length=MAX_OPTIONS, description="Multiple-choice options.")
    model: str | None = Field(default=None, max_length=MAX_NAME_CHARS, description=(
        "A chat model spec, e.g. openai:http://localhost:11434/v1#qwen2.5vl:7b; default the "
        "library's configured model, or the embedded answerer."))
    budget: BudgetRequest | None = None


@router.post("/ask", response_model=None, responses={200: {"model": Answer}},
             summary="Answer a question about one video, with evidence and cost")
def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    """The answer, its evidence moments (each as a search returns it, with media and
    thumbnail URLs), the trace of steps and the cost."""
    library = request.app.state.library
    video_id = find_video(library, body.video).id
    with request.app.state.asks.held():
        return views.answer(_ask(library, video_id, body, None), api=API)


@router.post("/ask/stream", response_class=StreamingResponse,
             responses={200: {"content": {"text/event-stream": {}}}},
             summary="Answer a question, streaming each step of the trace as it happens: "
                     "events 'step', then 'answer' (or 'error')")
async def ask_stream(body: AskRequest, request: Request) -> StreamingResponse:
    library = request.app.state.library
    video_id = find_video(library, body.video).id  # a bad id is a 404, not an event
    slots = request.app.state.asks
    slots.take()  # all taken: a 503, not an event; given back when the answer is done
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def put(kind: str, data: str) -> None:
        loop.call_soon_threadsafe(events.put_nowait, (kind, data))

    def run() -> None:
        try:
            answer = _ask(library, video_id, body,
                          lambda step: put("step", step.model_dump_json()))
            put("answer", json.dumps(views.answer(answer, api=API)))
        except Exception as exc:  # noqa: BLE001 - the client hears about it as an event
            status, code, detail = describe(exc)
            partial = getattr(exc, "answer", None)  # AskError: the trace up to the failure
            put("error", json.dumps({**error_body(code, detail), "status": status,
                                     "answer": views.answer(partial, api=API)
                                     if partial is not None else None}))
        finally:
            slots.give()

    # A thread, not the request's task: the answer finishes (and its trajectory is written)
    # even when the client goes away.
    try:
        threading.Thread(target=run, name="vidseek-ask", daemon=True).start()
    except BaseException:
        slots.give()
        raise

    async def stream():
        while True:
            kind, data = await events.get()
            yield sse_event(kind, data)
            if kind != "step":
                return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _ask(library, video_id: str, body: AskRequest, on_step) -> Answer:
    from vidseek.agent.budget import Budget

    budget = None
    if body.budget is not None:
        limits = body.budget.model_dump(exclude_none=True)
        budget = Budget(**limits) if limits else None
    return library.ask(video_id, body.question, options=body.options, model=body.model,
                       budget=budget, on_step=on_step)
