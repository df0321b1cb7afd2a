"""/lan: what a phone needs to use this server at home, for anyone who can reach it (no login):
the https address, a QR code of it, and the certificate authority to trust."""

from typing import Any

from litestar import Request, get
from litestar.response import Response

from server.deps import AppRuntime

CA_TYPE = "application/x-x509-ca-cert"  # what phones open as "install this certificate"


@get("/lan", summary="The https address for phones and tablets at home", tags=["lan"])
async def lan_info(request: Request[Any, Any, Any], runtime: AppRuntime) -> dict[str, Any]:
    lan = runtime.lan
    if lan is None:
        return {"enabled": False, "url": None, "urls": [], "ca_url": None, "ca_fingerprint": None}
    own_ca = lan.certificates is not None
    return {
        "enabled": True,
        "url": lan.url_for(request.headers.get("host", "")),
        "urls": lan.urls(),
        "ca_url": "/lan/ca.crt" if own_ca else None,
        "ca_fingerprint": lan.certificates.ca_fingerprint if lan.certificates else None,
    }


@get(
    "/lan/ca.crt",
    summary="The certificate authority to trust on a phone",
    tags=["lan"],
    media_type=CA_TYPE,
    opt={"errors": (404,)},  # not serving the home network, or with a certificate of the user's own
)
async def lan_ca(runtime: AppRuntime) -> Response[bytes]:
    from server.errors import NotFound

    if runtime.lan is None or runtime.lan.certificates is None:
        raise NotFound("this server has no certificate authority of its own", hint="it is not serving the home network")
    data = runtime.lan.certificates.ca_file.read_bytes()
    headers = {"Content-Disposition": 'attachment; filename="memoria-home-ca.crt"'}
    return Response(data, media_type=CA_TYPE, headers=headers)


@get(
    "/lan/qr.svg",
    summary="A QR code of the https address",
    tags=["lan"],
    media_type="image/svg+xml",
    opt={"errors": (404,)},  # not serving the home network
)
async def lan_qr(request: Request[Any, Any, Any], runtime: AppRuntime) -> Response[bytes]:
    import io

    import segno

    from server.errors import NotFound

    if runtime.lan is None:
        raise NotFound("this server is not serving the home network", hint="it is not serving the home network")
    out = io.BytesIO()
    segno.make(runtime.lan.url_for(request.headers.get("host", "")), error="m").save(
        out, kind="svg", scale=6, border=2, dark="#000", light="#fff"
    )
    return Response(out.getvalue(), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


ROUTES: list[object] = [lan_info, lan_ca, lan_qr]
