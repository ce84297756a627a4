"""Signed credentials: Open Badges 3.0 AchievementCredentials as VC-JWTs (Ed25519 / EdDSA),
the issuer's JWKS with key rotation, Bitstring Status Lists, and offline verification.

Status: each credential carries ONE BitstringStatusListEntry with statusPurpose "message" and
statusSize 2, so one list tells valid (0x0), suspended (0x1) and revoked (0x2) apart. Credentials
issued before that carried two entries (purposes revocation and suspension, 1 bit each) in the
lists "revocation" and "suspension"; those lists are still published, so they keep verifying."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.certificates.addresses import base_url as _base_url
from app.certificates.models import Certificate, CertificateStatus, SigningKey, StatusList
from app.config import get_settings
from app.db import open_session, utcnow
from app.i18n import LOCAL_TZ, N_
from app.i18n import gettext as _

MEDIA_TYPE = "application/vc+jwt"
VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
JWT_TYPE = "JWT"  # Open Badges 3.0: the header typ, when present, MUST be "JWT"
PURPOSES = ("revocation", "suspension")  # the 1-bit lists of credentials issued before 0007
MESSAGE_PURPOSE = "message"
STATUS_SIZE = 2
STATUS_VALUES = {CertificateStatus.VALID.value: 0, CertificateStatus.SUSPENDED.value: 1,
                 CertificateStatus.REVOKED.value: 2}
STATUS_MESSAGES = [{"status": "0x0", "message": "valid"},
                   {"status": "0x1", "message": "suspended"},
                   {"status": "0x2", "message": "revoked"},
                   {"status": "0x3", "message": "unused"}]
MIN_LIST_BITS = 131_072  # W3C Bitstring Status List: at least 16 KB, for herd privacy
MIN_LIST_ENTRIES = 131_072
LIST_ID = 1  # the one status list of certificates (grown in place)


# --- keys ---------------------------------------------------------------------------------------

def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _secret() -> bytes:
    return get_settings().secret_key.encode()


def _public_jwk(private: Ed25519PrivateKey) -> dict[str, str]:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    x = _b64url(raw)
    # RFC 7638 thumbprint as the key id: stable and derived from the key alone.
    thumbprint = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"),
                            sort_keys=True)
    kid = _b64url(hashlib.sha256(thumbprint.encode()).digest())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


def _new_key() -> SigningKey:
    """A fresh key; its private half is stored only as PKCS#8 PEM encrypted with the secret."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(_secret()))
    jwk = _public_jwk(private)
    return SigningKey(kid=jwk["kid"], public_jwk=jwk, private_key=pem.decode(),
                      created_at=utcnow())


def _private_key(row: SigningKey) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(row.private_key.encode(), password=_secret())
    if not isinstance(key, Ed25519PrivateKey):  # pragma: no cover - we only store Ed25519
        raise TypeError("signing key is not Ed25519")
    return key


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    private: Ed25519PrivateKey


def _active_row(db: Session) -> SigningKey | None:
    return db.scalar(select(SigningKey).where(SigningKey.retired_at.is_(None))
                     .order_by(SigningKey.created_at.desc(), SigningKey.kid).limit(1))


def active_key(db: Session) -> ActiveKey:
    """The key that signs now; generated on first use (in its own write transaction, so that
    read-only requests can sign too)."""
    row = _active_row(db)
    if row is None:
        with open_session(write=True) as writer:
            row = _active_row(writer)
            if row is None:
                row = _new_key()
                writer.add(row)
                writer.commit()
            return ActiveKey(row.kid, _private_key(row))
    return ActiveKey(row.kid, _private_key(row))


def rotate_key(db: Session) -> str:
    """Retire the signing key(s) in use and create a new one; the caller commits. Retired keys
    stay in the JWKS, so credentials they signed still verify. Returns the new kid."""
    now = utcnow()
    for row in db.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        row.retired_at = now
    row = _new_key()
    db.add(row)
    db.flush()
    return row.kid


def jwks(db: Session) -> dict[str, list[dict[str, Any]]]:
    """Every public key, current and retired (newest first)."""
    rows = list(db.scalars(select(SigningKey).order_by(SigningKey.created_at.desc(),
                                                       SigningKey.kid)))
    if not rows:
        active_key(db)
        with open_session(write=False) as reader:
            rows = list(reader.scalars(select(SigningKey)))
    return {"keys": [published_jwk(row) for row in rows]}


def key_url(thumbprint: str) -> str:
    """The key id in headers and in the JWKS: a URL that returns the public JWK."""
    return f"{_base_url()}/api/v1/keys/{thumbprint}"


def thumbprint_of(kid: str) -> str:
    """The RFC 7638 thumbprint a kid ends with (kids before 0007 were the bare thumbprint)."""
    return kid.rstrip("/").rsplit("/", 1)[-1]


def published_jwk(row: SigningKey) -> dict[str, Any]:
    """A public key as the JWKS publishes it (kid as a URL)."""
    return {**row.public_jwk, "kid": key_url(row.kid)}


def public_key(db: Session, thumbprint: str) -> dict[str, Any] | None:
    """One published key by its thumbprint, None when unknown."""
    row = db.get(SigningKey, thumbprint)
    return published_jwk(row) if row is not None else None


def _sign(db: Session, payload: dict[str, Any]) -> str:
    key = active_key(db)
    return jwt.encode(payload, key.private, algorithm="EdDSA",
                      headers={"kid": key_url(key.kid), "typ": JWT_TYPE})


# --- the credential -----------------------------------------------------------------------------

def status_list_url(list_id: int | str) -> str:
    return f"{_base_url()}/api/v1/status-lists/{list_id}"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), LOCAL_TZ).astimezone(UTC)


def _end_of(day: date) -> datetime:
    """Certificates are valid through their expiry day (Beijing calendar)."""
    return datetime.combine(day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def identity_hash(id_number: str, salt: str) -> str:
    """Open Badges IdentityObject hash: "sha256$" + hex SHA-256 of identity + salt."""
    return "sha256$" + hashlib.sha256((id_number + salt).encode()).hexdigest()


def _salt(certificate: Certificate) -> str:
    # Deterministic per certificate (the same credential every download), unguessable without
    # the secret key, so the hash cannot be reversed by enumerating ID numbers.
    return hmac.new(_secret(), b"identity-salt:" + certificate.number.encode(),
                    hashlib.sha256).hexdigest()[:32]


def subject_id(certificate: Certificate) -> str:
    """The holder's id in credentials: a UUID URN derived from the worker row with the secret
    key (stable across the holder's credentials, reveals neither the ID number nor the row)."""
    digest = hmac.new(_secret(), b"subject:" + str(certificate.worker_id).encode(),
                      hashlib.sha256).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}"


def _title(certificate: Certificate) -> str:
    title = certificate.title or {}
    return title.get("en") or next(iter(title.values()), certificate.course_code)


def build_credential(certificate: Certificate) -> dict[str, Any]:
    """The Open Badges 3.0 / W3C VC 2.0 credential of a certificate (unsigned)."""
    base = _base_url()
    salt = _salt(certificate)
    title = _title(certificate)
    titles = certificate.title or {}
    description = " / ".join(dict.fromkeys(v for v in (titles.get("en"), titles.get("zh_CN"))
                                           if v)) or title
    practical = "booking_id" in (certificate.source or {})
    narrative = (f"Passed the theory examination{' and the practical test' if practical else ''} "
                 f"of course {certificate.course_code} ({certificate.job_category}).")
    credential_id = f"{base}/verify/{certificate.number}"
    status_url = status_list_url(LIST_ID)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": base, "type": ["Profile"], "name": certificate.issuer},
        "validFrom": _iso(_start_of(certificate.issued_on)),
        "validUntil": _iso(_end_of(certificate.expires_on)),
        "name": title,
        "credentialSubject": {
            "id": subject_id(certificate),
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject",
                            "identityHash": identity_hash(certificate.worker.id_number, salt),
                            "hashed": True, "salt": salt, "identityType": "identifier"}],
            "achievement": {
                "id": f"{base}/achievements/{certificate.course_code}",
                "type": ["Achievement"],
                "name": title,
                "description": description,
                "criteria": {"narrative": narrative},
                "achievementType": "License",
            },
        },
        "credentialStatus": {
            "id": f"{status_url}#{certificate.status_index}",
            "type": "BitstringStatusListEntry", "statusPurpose": MESSAGE_PURPOSE,
            "statusListIndex": str(certificate.status_index), "statusSize": STATUS_SIZE,
            "statusMessage": STATUS_MESSAGES, "statusListCredential": status_url},
    }


def issue_credential(db: Session, certificate: Certificate) -> str:
    """The certificate as a compact JWS (VC-JWT) signed with the current key."""
    credential = build_credential(certificate)
    claims = {"iss": credential["issuer"]["id"], "sub": credential["credentialSubject"]["id"],
              "jti": credential["id"],
              "nbf": int(_start_of(certificate.issued_on).timestamp()),
              "exp": int(_end_of(certificate.expires_on).timestamp()),
              "iat": int(utcnow().timestamp())}
    return _sign(db, {**credential, **claims})


# --- status lists -------------------------------------------------------------------------------

def _bitstring(indexes: Iterable[int]) -> bytes:
    """Bit i (counted from the left-most bit of the first byte) set for every index."""
    wanted = list(indexes)
    bits = max(MIN_LIST_BITS, ((max(wanted, default=0) // MIN_LIST_BITS) + 1) * MIN_LIST_BITS)
    data = bytearray(bits // 8)
    for index in wanted:
        data[index // 8] |= 0x80 >> (index % 8)
    return bytes(data)


def _entries_bitstring(values: Mapping[int, int], entries: int, size: int) -> bytes:
    """`entries` entries of `size` bits each, entry i holding values[i] (most significant bit
    first, entry 0 at the left-most bit of the first byte), padded to whole bytes."""
    data = bytearray(-(-entries * size // 8))
    for index, value in values.items():
        for bit in range(size):
            if value & (1 << (size - 1 - bit)):
                position = index * size + bit
                data[position // 8] |= 0x80 >> (position % 8)
    return bytes(data)


def _compress(bitstring: bytes) -> str:
    return "u" + _b64url(gzip.compress(bitstring, mtime=0))


def encode_list(indexes: Iterable[int]) -> str:
    """Multibase base64url (prefix "u") of the GZIP-compressed 1-bit bitstring."""
    return _compress(_bitstring(indexes))


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    return gzip.decompress(_b64url_decode(encoded[1:]))


def bit_is_set(bitstring: bytes, index: int) -> bool:
    return entry_value(bitstring, index, 1) == 1


def entry_value(bitstring: bytes, index: int, size: int) -> int:
    """The value of entry `index` of `size` bits."""
    if index < 0 or size < 1 or (index + 1) * size > len(bitstring) * 8:
        raise IndexError("status index outside the list")
    value = 0
    for position in range(index * size, (index + 1) * size):
        value = value << 1 | bool(bitstring[position // 8] & (0x80 >> (position % 8)))
    return value


def _flagged(db: Session) -> list[tuple[int, str]]:
    rows = db.execute(select(Certificate.status_index, Certificate.status).where(
        Certificate.status.in_((CertificateStatus.REVOKED.value,
                                CertificateStatus.SUSPENDED.value)))).all()
    return [(index, status) for index, status in rows]


def _credential_shell(url: str, purpose: str, encoded: str) -> dict[str, Any]:
    return {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _base_url(),
        "validFrom": _iso(utcnow()),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                              "statusPurpose": purpose, "encodedList": encoded},
    }


def status_list_credential(db: Session, list_id: str) -> dict[str, Any] | None:
    """The BitstringStatusListCredential named `list_id` (unsigned), None when there is none:
    list 1 (2-bit entries, purpose message) or one of the two 1-bit lists (revocation,
    suspension) that credentials issued before migration 0007 point at."""
    if list_id in PURPOSES:
        wanted = (CertificateStatus.REVOKED.value if list_id == "revocation"
                  else CertificateStatus.SUSPENDED.value)
        indexes = [i for i, status in _flagged(db) if status == wanted]
        return _credential_shell(status_list_url(list_id), list_id, encode_list(indexes))
    if list_id != str(LIST_ID):
        return None
    status_list = db.get(StatusList, LIST_ID)
    if status_list is None:
        return None
    values = {index: STATUS_VALUES[status] for index, status in _flagged(db)}
    entries = max(MIN_LIST_ENTRIES, status_list.size)
    return _credential_shell(status_list_url(status_list.id), MESSAGE_PURPOSE, _compress(
        _entries_bitstring(values, entries, status_list.status_size)))


def sign_status_list(db: Session, credential: dict[str, Any]) -> str:
    """A status list credential as a VC-JWT signed with the current key."""
    return _sign(db, {**credential, "iss": credential["issuer"], "jti": credential["id"],
                      "iat": int(utcnow().timestamp())})


# --- verification -------------------------------------------------------------------------------

REASONS = {
    "malformed": N_("The credential is not a well-formed VC-JWT."),
    "wrong_algorithm": N_("The credential is not signed with EdDSA."),
    "unknown_key": N_("The credential was signed by a key the issuer does not publish."),
    "bad_signature": N_("The signature does not match: the credential was altered or forged."),
    "not_yet_valid": N_("The credential is not valid yet."),
    "expired": N_("The credential has expired."),
    "revoked": N_("The certificate has been revoked."),
    "suspended": N_("The certificate is suspended."),
    "status_list_invalid": N_("A status list is not validly signed by the issuer."),
    "claims_mismatch": N_("The credential's JWT claims do not match its content."),
}


def describe(reason: str) -> str:
    """A reason code in words, in the current language."""
    return _(REASONS.get(reason, reason))


@dataclass
class Verdict:
    valid: bool
    reasons: list[str]
    payload: dict[str, Any] | None = None
    kid: str | None = None
    signature_ok: bool = False
    # Per purpose: True = flag set, False = clear, None = not checked (no list given).
    status: dict[str, bool | None] = field(default_factory=dict)


def _keys_by_kid(keys: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Keys by thumbprint: a kid URL and the bare thumbprint of older credentials both match,
    whatever address the JWKS was fetched from."""
    items = keys.get("keys", []) if isinstance(keys, Mapping) else keys
    return {thumbprint_of(str(k["kid"])): k for k in items
            if isinstance(k, Mapping) and "kid" in k}


def _check_signature(token: str, keys: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None,
                                                                 str | None]:
    """(payload, kid, failure reason)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        return None, None, "malformed"
    kid = header.get("kid")
    if header.get("alg") != "EdDSA":
        return None, kid, "wrong_algorithm"
    jwk = keys.get(thumbprint_of(kid)) if isinstance(kid, str) else None
    if jwk is None:
        return None, kid, "unknown_key"
    try:
        public = jwt.PyJWK(dict(jwk), algorithm="EdDSA").key
        payload = jwt.decode(token, public, algorithms=["EdDSA"],
                             options={"verify_exp": False, "verify_nbf": False,
                                      "verify_iat": False, "verify_aud": False})
    except jwt.InvalidSignatureError:
        return None, kid, "bad_signature"
    except (jwt.PyJWTError, ValueError, TypeError):
        return None, kid, "malformed"
    return payload, kid, None


def _load_status_lists(lists: Iterable[str | Mapping[str, Any]], keys: dict[str, Any]
                       ) -> tuple[dict[str, dict[str, Any]], bool]:
    """Status list credentials by URL; JWT ones must verify against the same keys."""
    found: dict[str, dict[str, Any]] = {}
    ok = True
    for item in lists:
        if isinstance(item, str):
            payload, _kid, failure = _check_signature(item.strip(), keys)
            if failure or payload is None:
                ok = False
                continue
            item = payload
        if isinstance(item, Mapping) and isinstance(item.get("id"), str):
            found[item["id"]] = dict(item)
    return found, ok


def _claims_match(payload: Mapping[str, Any]) -> bool:
    """Open Badges 3.0 VC-JWT: iss, sub, jti and nbf repeat the credential's own values."""
    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    subject = payload.get("credentialSubject")
    subject_id_ = subject.get("id") if isinstance(subject, Mapping) else None
    valid_from = _parse_iso(payload.get("validFrom"))
    nbf = payload.get("nbf")
    return (payload.get("iss") == issuer_id and payload.get("jti") == payload.get("id") and
            ("sub" not in payload or payload.get("sub") == subject_id_) and
            (nbf is None or valid_from is None or
             (isinstance(nbf, int | float) and int(nbf) == int(valid_from.timestamp()))))


def _entry_status(entry: Mapping[str, Any], lists: Mapping[str, dict[str, Any]]
                  ) -> dict[str, bool | None] | None:
    """What one credentialStatus entry says: {"revocation": ..., "suspension": ...} with True
    (set), False (clear) or None (its list was not given); None for an entry we do not read.
    Raises ValueError when the list is unusable."""
    purpose = entry.get("statusPurpose")
    if purpose not in (*PURPOSES, MESSAGE_PURPOSE):
        return None
    listed = lists.get(str(entry.get("statusListCredential")))
    if listed is None:
        return ({"revocation": None, "suspension": None} if purpose == MESSAGE_PURPOSE
                else {str(purpose): None})
    subject = listed.get("credentialSubject") or {}
    if not isinstance(subject, Mapping) or subject.get("statusPurpose") != purpose:
        raise ValueError("purpose mismatch")
    size = int(entry.get("statusSize", 1))
    value = entry_value(decode_list(str(subject.get("encodedList"))),
                        int(entry.get("statusListIndex")), size)  # type: ignore[arg-type]
    if purpose != MESSAGE_PURPOSE:
        return {str(purpose): bool(value)}
    messages = {str(m.get("status")).lower(): m.get("message")
                for m in entry.get("statusMessage") or [] if isinstance(m, Mapping)}
    message = messages.get(hex(value), "valid" if value == 0 else None)
    if message not in ("valid", "suspended", "revoked"):
        raise ValueError(f"status value {value} has no known message")
    return {"revocation": message == "revoked", "suspension": message == "suspended"}


def verify_credential(token: str, jwks: Mapping[str, Any] | Iterable[Mapping[str, Any]],
                      status_lists: Iterable[str | Mapping[str, Any]] | None = None, *,
                      now: datetime | None = None) -> Verdict:
    """Check a VC-JWT offline: the signature with the key named by its kid, the JWT claims
    against the credential, validFrom and validUntil, and (when status lists are given) whether
    the certificate is revoked or suspended."""
    keys = _keys_by_kid(jwks)
    payload, kid, failure = _check_signature(token.strip(), keys)
    if failure or payload is None:
        return Verdict(False, [failure or "malformed"], kid=kid)
    reasons: list[str] = []
    if not _claims_match(payload):
        reasons.append("claims_mismatch")
    moment = now or utcnow()
    valid_from, valid_until = _parse_iso(payload.get("validFrom")), _parse_iso(
        payload.get("validUntil"))
    if valid_from is not None and moment < valid_from:
        reasons.append("not_yet_valid")
    if valid_until is not None and moment > valid_until:
        reasons.append("expired")
    status: dict[str, bool | None] = {}
    if status_lists is not None:
        lists, lists_ok = _load_status_lists(status_lists, keys)
        if not lists_ok:
            reasons.append("status_list_invalid")
        entries = payload.get("credentialStatus") or []
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, Mapping):
                continue
            try:
                said = _entry_status(entry, lists)
            except (ValueError, IndexError, TypeError, OSError, EOFError):
                reasons.append("status_list_invalid")
                continue
            for purpose, flag in (said or {}).items():
                if flag or purpose not in status:
                    status[purpose] = flag
        for purpose, reason in (("revocation", "revoked"), ("suspension", "suspended")):
            if status.get(purpose):
                reasons.append(reason)
    return Verdict(not reasons, reasons, payload, kid, True, status)


def current_status_lists(db: Session) -> list[dict[str, Any]]:
    """Every status list credential as the server publishes it now (unsigned JSON)."""
    names = [*PURPOSES, str(LIST_ID)]
    return [c for c in (status_list_credential(db, name) for name in names) if c is not None]


def number_of(payload: Mapping[str, Any]) -> str | None:
    """The certificate number from a credential's id (base_url/verify/NUMBER)."""
    credential_id = payload.get("id")
    if not isinstance(credential_id, str) or "/verify/" not in credential_id:
        return None
    return credential_id.rsplit("/verify/", 1)[1] or None
