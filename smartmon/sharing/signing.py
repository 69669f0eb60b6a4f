"""Short-lived signed file URLs, the way cloud stores pre-sign object URLs.

The protocol hands a client one URL per data file and the client fetches it without its bearer
token, so the URL itself must be the credential. Each URL carries the file's lake-relative path,
the recipient it was issued to and an expiry, all covered by an HMAC-SHA256 under a key only the
server holds: changing any of them (another scope's cache folder, a later expiry) breaks the
signature. The key lives in `<lake>/_sharing/signing.key` (owner-only) so every server process
on the lake accepts the URLs any of them issued.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from smartmon.sharing.errors import PermissionDenied

DEFAULT_TTL_SECONDS = 900
KEY_FILE = "signing.key"


def load_or_create_key(state_dir: Path) -> bytes:
    """The server's signing key, created on first use (32 random bytes, mode 0600)."""
    path = Path(state_dir) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) < 32:
        raise PermissionDenied(f"{path} holds a key shorter than 32 bytes: delete it to make a new one")
    return key


class UrlSigner:
    def __init__(self, key: bytes, ttl_seconds: int = DEFAULT_TTL_SECONDS) -> None:
        self._key = key
        self.ttl = ttl_seconds

    def _sig(self, relpath: str, recipient: str, expires: int) -> str:
        msg = f"{relpath}\n{recipient}\n{expires}".encode()
        return hmac.new(self._key, msg, hashlib.sha256).hexdigest()

    def query(self, relpath: str, recipient: str, now: float | None = None) -> str:
        """The signed query string (r, expires, sig) for a path, valid for `ttl` seconds."""
        expires = int((now if now is not None else time.time()) + self.ttl)
        return urlencode({"r": recipient, "expires": expires, "sig": self._sig(relpath, recipient, expires)})

    def sign(self, base_url: str, relpath: str, recipient: str, now: float | None = None) -> str:
        """The URL of a lake-relative file for one recipient, valid for `ttl` seconds."""
        return f"{base_url.rstrip('/')}/files/{quote(relpath, safe='/=')}?{self.query(relpath, recipient, now)}"

    def verify(self, relpath: str, recipient: str, expires: str, sig: str, now: float | None = None) -> None:
        """Raise PermissionDenied unless the signature matches and the URL has not expired."""
        try:
            exp = int(expires)
        except (TypeError, ValueError) as exc:
            raise PermissionDenied("file URL has no valid 'expires'") from exc
        if not sig or not hmac.compare_digest(self._sig(relpath, recipient or "", exp), sig):
            raise PermissionDenied("file URL signature does not match: URLs cannot be altered; query the table again")
        if (now if now is not None else time.time()) > exp:
            raise PermissionDenied("file URL expired: query the table again for fresh URLs")
