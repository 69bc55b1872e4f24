"""The annotators' proxy video behind an opaque, signed, expiring link, with HTTP Range."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse

from cuevision.annotate import links
from cuevision.annotate.sync import PROXY
from cuevision.api.routes.labelstudio import loop_of

router = APIRouter(tags=["video"])


@router.get("/video/{token}", response_class=FileResponse)
def proxy_video(token: str, request: Request) -> FileResponse:
    """Stream a session's proxy; 403 for a forged or expired link, 416 for a Range past the end."""
    state = loop_of(request)
    try:
        session_id = links.verify(state.secret(), token, time.time())
    except links.LinkError as error:
        raise HTTPException(status_code=403, detail=str(error)) from None
    outdir = state.lookup(session_id)
    if outdir is None or not (outdir / PROXY).is_file():
        raise HTTPException(status_code=404, detail="this session's video is no longer here")
    return FileResponse(outdir / PROXY, media_type="video/mp4", filename=None)
