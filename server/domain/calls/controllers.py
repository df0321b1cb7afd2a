"""Call endpoints: offer/answer for an avatar, end, rating, history with transcripts, recording."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import File

from server.db.models import Message, VideoCall
from server.deps import AppRegistry, AppSettings, AppStorage, Calls, CurrentUser, DbSession, OwnedAvatar
from server.domain.calls import records
from server.domain.calls.callee import call_avatar
from server.domain.calls.schemas import (
    AnswerRead,
    CallRead,
    IceRead,
    MessageRead,
    OfferRequest,
    RatingRequest,
    ice_read,
)
from server.errors import BadInput, NotFound

MAX_PAGE = 200


class CallController(Controller):
    tags = ("calls",)
    security = ({"bearer": []},)

    @post(
        "/avatars/{avatar_id:int}/calls",
        status_code=201,
        summary="Start a call: send an SDP offer, get the answer",
        opt={"errors": (429,)},
    )
    async def offer(
        self,
        avatar: OwnedAvatar,
        data: JSONBody[OfferRequest],
        db_session: DbSession,
        current_user: CurrentUser,
        storage: AppStorage,
        registry: AppRegistry,
        calls: Calls,
    ) -> AnswerRead:
        callee = await call_avatar(db_session, storage, avatar, registry, video=data.video)
        answer, live = await calls.start(callee, data.sdp, user_id=current_user.id, record=data.record)
        return AnswerRead(call_id=live.call_id, sdp=answer)

    @get("/calls/ice", summary="The ICE servers a client should use (none: LAN or loopback only)")
    async def ice(self, settings: AppSettings, current_user: CurrentUser) -> IceRead:
        return ice_read(
            settings.ice_servers, loopback_only=settings.loopback_only, policy=settings.ice_transport_policy
        )

    @post("/calls/{call_id:int}/end", status_code=200, summary="Hang up")
    async def end(
        self, call_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, calls: Calls
    ) -> CallRead:
        if call_id in calls.calls:
            await calls.end(call_id, current_user.id, "hung up")
        call = await records.owned_call(db_session, current_user, call_id)
        await db_session.refresh(call)
        return await _read(db_session, call, live=False)

    @post("/calls/{call_id:int}/rating", status_code=200, summary="Rate a finished call from 1 to 5")
    async def rate(
        self, call_id: FromPath[int], data: JSONBody[RatingRequest], db_session: DbSession, current_user: CurrentUser
    ) -> CallRead:
        call = await records.rate_call(db_session, current_user, call_id, data.rating)
        return await _read(db_session, call, live=False)

    @get(
        "/calls",
        summary="Your calls, newest first, with what was said",
        description="A page of at most `limit` calls; for older ones, pass the last call's id as `before`.",
    )
    async def list_calls(
        self,
        calls: Calls,
        db_session: DbSession,
        current_user: CurrentUser,
        avatar_id: FromQuery[int | None] = None,
        before: FromQuery[int | None] = None,
        limit: FromQuery[int] = 50,
    ) -> list[CallRead]:
        if not 1 <= limit <= MAX_PAGE:
            raise BadInput(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
        rows = await records.list_calls(db_session, current_user, avatar_id=avatar_id, before=before, limit=limit)
        said = await records.messages_of(db_session, [c.conversation_id for c in rows])
        return [_call_read(c, said.get(c.conversation_id, []), live=c.id in calls.calls) for c in rows]

    @get("/calls/{call_id:int}", summary="One call with its transcript")
    async def get_call(
        self, call_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, calls: Calls
    ) -> CallRead:
        call = await records.owned_call(db_session, current_user, call_id)
        return await _read(db_session, call, live=call_id in calls.calls)

    @get("/calls/{call_id:int}/recording", summary="The call's recording (MP4)", media_type="video/mp4")
    async def recording(
        self, call_id: FromPath[int], db_session: DbSession, current_user: CurrentUser, storage: AppStorage
    ) -> File:
        call = await records.owned_call(db_session, current_user, call_id)
        if not call.recording_path:
            raise NotFound(f"call {call_id} was not recorded")
        path = storage.resolve(call.recording_path)
        if not path.is_file():
            raise NotFound("the recording is missing from the data directory")
        # inline: the web app plays it in the page; a download keeps the same name
        return File(
            path=path, media_type="video/mp4", filename=f"call-{call_id}.mp4", content_disposition_type="inline"
        )


async def _read(db_session: DbSession, call: VideoCall, *, live: bool) -> CallRead:
    said = await records.messages_of(db_session, [call.conversation_id])
    return _call_read(call, said[call.conversation_id], live=live)


def _call_read(call: VideoCall, messages: list[Message], *, live: bool) -> CallRead:
    return CallRead(
        id=call.id,
        avatar_id=call.avatar_id,
        conversation_id=call.conversation_id,
        started_at=call.started_at,
        ended_at=call.ended_at,
        end_reason=call.end_reason,
        total_exchanges=call.total_exchanges,
        user_satisfaction=call.user_satisfaction,
        has_recording=bool(call.recording_path),
        live=live,
        messages=[
            MessageRead(role=m.role, text=m.text, emotion=m.emotion, flags=dict(m.flags or {}), created_at=m.created_at)
            for m in messages
        ],
    )


ROUTES: list[type] = [CallController]
