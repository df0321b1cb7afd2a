"""What the call endpoints take and give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from server.domain.schemas import Input, Output


class OfferRequest(Input):
    sdp: Annotated[str, Meta(min_length=1, max_length=100_000)]
    type: Literal["offer"] = "offer"
    video: Literal["512", "720p"] = "512"
    record: bool = False


class AnswerRead(Output, kw_only=True):
    call_id: int
    sdp: str
    type: str = "answer"


class RatingRequest(Input):
    rating: Annotated[int, Meta(ge=1, le=5, description="1 (bad) to 5 (very good)")]


class MessageRead(Output, kw_only=True):
    role: str
    text: str
    emotion: str | None
    flags: dict[str, Any]
    created_at: datetime


class CallRead(Output, kw_only=True):
    id: int
    avatar_id: int
    conversation_id: int
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    total_exchanges: int
    user_satisfaction: int | None
    has_recording: bool
    live: bool
    messages: list[MessageRead] = msgspec.field(default_factory=list)


class IceServer(Output, kw_only=True, omit_defaults=True):
    urls: str
    username: str | None = None
    credential: str | None = None


class IceRead(Output, kw_only=True):
    ice_servers: list[IceServer]
    loopback_only: bool
    ice_transport_policy: str = "all"  # RTCConfiguration.iceTransportPolicy: "all" or "relay" (TURN only)


def ice_read(entries: tuple[str, ...], *, loopback_only: bool, policy: str = "all") -> IceRead:
    """The same servers the server's peer uses (server.rtc.ice), in the browser's RTCIceServer shape."""
    from server.rtc.ice import rtc_configuration

    servers = [
        IceServer(urls=str(s.urls), username=s.username, credential=s.credential)
        for s in rtc_configuration(entries).iceServers or []
    ]
    return IceRead(ice_servers=servers, loopback_only=loopback_only, ice_transport_policy=policy)
