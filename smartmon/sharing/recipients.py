"""Recipients and their bearer tokens, kept in `<lake>/_sharing/recipients.json`.

Only the SHA-256 of a token is stored: a copy of the file (a backup, a leaked lake snapshot)
grants nothing. Tokens come from `secrets` (256 bits), so hashing without a salt is enough: no
token can be guessed from its hash by a dictionary. The token itself is shown once, when the
recipient is added or rotated, and written into the recipient's Delta Sharing profile file.
Revoked recipients stay in the file (with revoked_at) so the access log can still be read
against them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from smartmon.sharing.areas import Area, parse_area
from smartmon.sharing.errors import (
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
STORE_VERSION = 1


def new_token() -> str:
    """A fresh bearer token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t else None


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass(frozen=True)
class Recipient:
    """A downstream platform: its area, what it may read, and the hash of its token."""

    name: str
    area: Area
    shares: tuple[str, ...]
    tables: tuple[str, ...]  # layer.table restrictions within the shares; empty: every table
    token_sha256: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def status(self, now: datetime | None = None) -> str:
        """active | expired | revoked."""
        if self.revoked_at:
            return "revoked"
        if self.expires_at and (now or utcnow()) >= self.expires_at:
            return "expired"
        return "active"

    def may_read(self, share: str, fqn: str) -> bool:
        """Granted the share, and the table if the grant names tables."""
        return share in self.shares and (not self.tables or fqn in self.tables)

    def to_json(self) -> dict:
        return {"name": self.name, "tier": self.area.tier, "code": self.area.code, "shares": list(self.shares),
                "tables": list(self.tables), "token_sha256": self.token_sha256, "created_at": _iso(self.created_at),
                "expires_at": _iso(self.expires_at), "revoked_at": _iso(self.revoked_at)}

    @staticmethod
    def from_json(d: dict) -> Recipient:
        return Recipient(d["name"], parse_area(d["tier"], d["code"]), tuple(d.get("shares", ())), tuple(d.get("tables", ())),
                         d["token_sha256"], _parse_time(d["created_at"]) or utcnow(), _parse_time(d.get("expires_at")),
                         _parse_time(d.get("revoked_at")))


class RecipientStore:
    """The recipients file, re-read when it changes so a revoke applies to a running server at once."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir)
        self.path = self.dir / "recipients.json"
        self._stamp: tuple[int, int, int] | None = None
        self._cache: dict[str, Recipient] = {}

    # -------------------------------------------------------------- reading
    def _load(self) -> dict[str, Recipient]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._cache = None, {}
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)  # the file is replaced, never edited: a new inode each write
        if stamp != self._stamp:
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._cache = {d["name"]: Recipient.from_json(d) for d in raw.get("recipients", [])}
            except (ValueError, KeyError) as exc:
                raise InvalidRequest(f"{self.path} is damaged ({exc}); restore it from a backup") from exc
            self._stamp = stamp
        return self._cache

    def list(self) -> list[Recipient]:
        return sorted(self._load().values(), key=lambda r: r.name)

    def get(self, name: str) -> Recipient:
        r = self._load().get(name)
        if r is None:
            raise NotFound(f"no recipient {name!r} (see `smartmon share list-recipients`)")
        return r

    def get_active(self, name: str) -> Recipient:
        """A recipient that may still read (file URLs carry a name, not a token: a revoke ends them too)."""
        r = self._load().get(name)
        if r is None or r.status() != "active":
            raise PermissionDenied(f"recipient {name!r} is unknown, revoked or expired")
        return r

    def authenticate(self, token: str | None, now: datetime | None = None) -> Recipient:
        """The recipient whose token this is; Unauthenticated says why not (never which token matched)."""
        if not token:
            raise Unauthenticated("missing bearer token: send 'Authorization: Bearer <token>' (the bearerToken of your profile file)")
        digest = hash_token(token)
        for r in self._load().values():
            if hmac.compare_digest(r.token_sha256, digest):
                status = r.status(now)
                if status == "revoked":
                    raise Unauthenticated(f"this token was revoked at {_iso(r.revoked_at)}; ask the provider for a new profile")
                if status == "expired":
                    raise Unauthenticated(f"this token expired at {_iso(r.expires_at)}; ask the provider to rotate it")
                return r
        raise Unauthenticated("bearer token not recognised")

    # -------------------------------------------------------------- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Recipient]]:
        """Read-modify-write under an exclusive lock, then replace the file atomically."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / ".recipients.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._stamp = None
            current = dict(self._load())
            yield current
            body = {"version": STORE_VERSION, "recipients": [r.to_json() for r in sorted(current.values(), key=lambda r: r.name)]}
            fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".recipients-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(body, f, indent=1, ensure_ascii=False)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
            self._stamp = None

    def add(self, name: str, area: Area, shares: Sequence[str], tables: Sequence[str] = (),
            expires_days: float | None = None) -> tuple[Recipient, str]:
        """Create a recipient and return it with its token (the only time the token exists in clear)."""
        if not _NAME.match(name):
            raise InvalidRequest(f"recipient name {name!r}: use 1-64 lower-case letters, digits, '.', '_' or '-'")
        if not shares:
            raise InvalidRequest(f"recipient {name}: grant at least one share")
        if expires_days is not None and expires_days <= 0:
            raise InvalidRequest(f"--expires-days must be positive, got {expires_days}")
        token = new_token()
        now = utcnow()
        with self._locked() as current:
            old = current.get(name)
            if old is not None and old.status(now) != "revoked":
                raise InvalidRequest(f"recipient {name} exists ({old.status(now)}): `smartmon share rotate {name}` gives it a "
                                     f"new token, `smartmon share revoke {name}` ends it")
            r = Recipient(name, area, tuple(shares), tuple(tables), hash_token(token), now,
                          now + timedelta(days=expires_days) if expires_days else None)
            current[name] = r
        log.info("recipient %s added: %s, shares %s%s", name, area, ",".join(shares), f", tables {','.join(tables)}" if tables else "")
        return r, token

    def revoke(self, name: str) -> Recipient:
        with self._locked() as current:
            if name not in current:
                raise NotFound(f"no recipient {name!r} (see `smartmon share list-recipients`)")
            r = current[name] = replace(current[name], revoked_at=current[name].revoked_at or utcnow())
        log.info("recipient %s revoked", name)
        return r

    def rotate(self, name: str, expires_days: float | None = None) -> tuple[Recipient, str]:
        """A new token for an existing recipient; the old one stops working at once."""
        token = new_token()
        now = utcnow()
        with self._locked() as current:
            if name not in current:
                raise NotFound(f"no recipient {name!r} (see `smartmon share list-recipients`)")
            old = current[name]
            expires = now + timedelta(days=expires_days) if expires_days else (old.expires_at if old.status(now) == "active" else None)
            r = current[name] = replace(old, token_sha256=hash_token(token), revoked_at=None, expires_at=expires)
        log.info("recipient %s: token rotated", name)
        return r, token


def write_profile(path: Path | str, endpoint: str, token: str, expires_at: datetime | None = None) -> Path:
    """Write the Delta Sharing profile file a recipient's client reads (owner-only: it holds the token)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    body = {"shareCredentialsVersion": 1, "endpoint": endpoint.rstrip("/"), "bearerToken": token}
    if expires_at:
        body["expirationTime"] = _iso(expires_at)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f, indent=2)
        f.write("\n")
    return p
