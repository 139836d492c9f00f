"""Where phones open the field app: its address on this server, as a QR code for the console's
home page, and whether that address can give a phone's browser the camera and offline use."""

import base64
import ipaddress
from urllib.parse import urlsplit

from flask import Request

from sync.plates import qr_png


def app_address(request: Request) -> str:
    """The app's address as the person at the console reached this server (a proxy's, when trusted)."""
    return request.host_url + "app/"


def qr_data_uri(address: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(address)).decode()


def insecure_for_phones(request: Request) -> bool:
    """Plain http from another host: a phone's browser would refuse the camera and the service
    worker there (only https and loopback are secure contexts)."""
    if request.is_secure:
        return False
    host = urlsplit(request.host_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
