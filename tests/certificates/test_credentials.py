import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import jsonschema
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from typer.testing import CliRunner

from app.accounts.models import Role
from app.certificates import credentials, service
from app.certificates.models import Certificate, SigningKey
from app.cli import app as cli
from tests import factories as f

VC = "application/vc+jwt"
BASE = "http://testserver"  # no PITHEAD_BASE_URL in tests: the request's own origin
SCHEMA = Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json"


@cache
def _validator() -> jsonschema.Draft201909Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(
        schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)


def assert_conforms(token: str) -> dict:
    """Open Badges 3.0: the payload is valid against 1EdTech's schema and the VC-JWT rules."""
    header = jwt.get_unverified_header(token)
    assert header.get("typ", "JWT") == "JWT" and header["alg"] == "EdDSA"
    assert set(header) <= {"alg", "kid", "typ"}
    assert header["kid"].startswith(BASE + "/api/v1/keys/")
    payload = jwt.decode(token, options={"verify_signature": False})
    errors = sorted(_validator().iter_errors(payload), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert isinstance(payload["credentialStatus"], dict)
    assert payload["iss"] == payload["issuer"]["id"]
    assert payload["sub"] == payload["credentialSubject"]["id"]
    assert payload["jti"] == payload["id"]
    assert payload["nbf"] == int(datetime.fromisoformat(payload["validFrom"]).timestamp())
    assert payload["exp"] == int(datetime.fromisoformat(payload["validUntil"]).timestamp())
    return payload


def _number(db) -> str:
    number = db.scalar(select(Certificate.number))
    db.commit()
    return number


def _credential(client, auth, number) -> str:
    response = client.get(f"/api/v1/certificates/{number}/credential", headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == VC
    assert_conforms(response.text)
    return response.text


def _jwks(client) -> dict:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response.json()


def _lists(client) -> list[dict]:
    return [client.get("/api/v1/status-lists/1?format=json").json()]


def _entry(status_list: dict, index: int, size: int = 2) -> int:
    """The value of entry `index` (`size` bits, most significant first), decoded by hand."""
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    body = encoded[1:]
    data = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert len(data) * 8 >= 131_072 * size
    bits = "".join(f"{byte:08b}" for byte in data)
    return int(bits[index * size:(index + 1) * size], 2)


def _decide(db, number, action, reason="Falsified records"):
    admin = db.scalar(select(service.User).where(service.User.username == "root"))
    certificate = service.get_by_number_or_404(db=db, number=number)
    getattr(service, action)(db=db, certificate=certificate, reason=reason, by=admin)
    db.commit()
    return certificate


def test_credential_shape(client, db, certified):
    number = _number(db)
    certificate = db.scalar(select(Certificate))
    index = certificate.status_index
    issued_on, expires_on, code = certificate.issued_on, certificate.expires_on, \
        certificate.course_code
    db.commit()
    token = _credential(client, certified["auth"], number)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "JWT", "kid": header["kid"]}
    keys = _jwks(client)["keys"]
    assert [k["kid"] for k in keys] == [header["kid"]]
    assert {k: v for k, v in keys[0].items() if k != "x"} == {
        "kty": "OKP", "crv": "Ed25519", "kid": header["kid"], "use": "sig", "alg": "EdDSA"}
    # The kid is a URL that dereferences to the key.
    assert header["kid"].startswith(f"{BASE}/api/v1/keys/")
    key = client.get(header["kid"][len(BASE):])
    assert key.status_code == 200 and key.headers["content-type"] == "application/jwk+json"
    assert key.json() == keys[0] and "d" not in key.json()
    assert client.get("/api/v1/keys/nope").status_code == 404
    payload = jwt.decode(token, options={"verify_signature": False})
    base = BASE
    assert payload["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                   "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["id"] == f"{base}/verify/{number}" == payload["jti"]
    assert payload["issuer"] == {"id": base, "type": ["Profile"], "name": service.ISSUER}
    assert payload["iss"] == base
    assert payload["validFrom"].startswith((issued_on - timedelta(days=1)).isoformat())
    assert payload["validFrom"].endswith("T16:00:00Z")  # midnight in Beijing
    assert payload["validUntil"] == f"{expires_on.isoformat()}T15:59:59Z"
    assert payload["exp"] == int(datetime.fromisoformat(payload["validUntil"]).timestamp())
    assert payload["name"] == "Special operations certificate: test work"
    subject = payload["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["id"].startswith("urn:uuid:") and payload["sub"] == subject["id"]
    [identity] = subject["identifier"]
    assert identity["identityHash"] == credentials.identity_hash(
        certified["worker"].id_number, identity["salt"])
    assert identity["identityHash"].startswith("sha256$") and len(identity["salt"]) == 32
    assert (identity["type"], identity["hashed"], identity["identityType"]) == (
        "IdentityObject", True, "identifier")
    assert certified["worker"].id_number not in token
    assert certified["worker"].id_number not in json.dumps(payload, ensure_ascii=False)
    achievement = subject["achievement"]
    assert achievement["id"] == f"{base}/achievements/{code}"
    assert achievement["type"] == ["Achievement"] and achievement["achievementType"] == "License"
    assert achievement["description"] == ("Special operations certificate: test work / "
                                          "特种作业操作证：测试作业")
    assert achievement["criteria"]["narrative"].startswith("Passed the theory examination")
    assert payload["credentialStatus"] == {
        "id": f"{base}/api/v1/status-lists/1#{index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "message", "statusListIndex": str(index), "statusSize": 2,
        "statusMessage": [{"status": "0x0", "message": "valid"},
                          {"status": "0x1", "message": "suspended"},
                          {"status": "0x2", "message": "revoked"},
                          {"status": "0x3", "message": "unused"}],
        "statusListCredential": f"{base}/api/v1/status-lists/1"}


def test_verifies_and_detects_tampering_and_wrong_keys(client, db, certified):
    number = _number(db)
    token = _credential(client, certified["auth"], number)
    keys = _jwks(client)
    verdict = credentials.verify_credential(token, keys, _lists(client))
    assert (verdict.valid, verdict.reasons, verdict.signature_ok) == (True, [], True)
    assert verdict.status == {"revocation": False, "suspension": False}
    assert verdict.payload["id"].endswith(number)

    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["validUntil"] = "2099-12-31T23:59:59Z"
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = credentials.verify_credential(f"{head}.{forged_body}.{signature}", keys)
    assert (tampered.valid, tampered.reasons) == (False, ["bad_signature"])

    kid = jwt.get_unverified_header(token)["kid"]
    other = jwt.PyJWK.from_json(json.dumps({**jwt.algorithms.OKPAlgorithm.to_jwk(
        Ed25519PrivateKey.generate().public_key(), as_dict=True), "kid": kid}))
    wrong = credentials.verify_credential(token, {"keys": [{**other._jwk_data, "kid": kid}]})
    assert (wrong.valid, wrong.reasons) == (False, ["bad_signature"])
    unknown = credentials.verify_credential(token, {"keys": []})
    assert (unknown.valid, unknown.reasons) == (False, ["unknown_key"])
    assert credentials.verify_credential("not-a-jwt", keys).reasons == ["malformed"]

    later = datetime.fromisoformat(claims["validFrom"]) + timedelta(days=365 * 7)
    expired = credentials.verify_credential(token, keys, now=later.astimezone(UTC))
    assert (expired.valid, expired.reasons) == (False, ["expired"])


def test_revocation_sets_the_entry_and_the_verdict_says_revoked(client, db, certified):
    number = _number(db)
    index = db.scalar(select(Certificate.status_index))
    db.commit()
    token = _credential(client, certified["auth"], number)
    [status_list] = _lists(client)
    assert _entry(status_list, index) == 0
    _decide(db, number, "revoke")
    [status_list] = _lists(client)
    assert status_list["id"] == f"{BASE}/api/v1/status-lists/1"
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert status_list["credentialSubject"]["id"] == status_list["id"] + "#list"
    assert status_list["credentialSubject"]["statusPurpose"] == "message"
    assert _entry(status_list, index) == 2
    assert _entry(status_list, index + 1) == 0 and _entry(status_list, index - 1) == 0
    verdict = credentials.verify_credential(token, _jwks(client), [status_list])
    assert (verdict.valid, verdict.reasons) == (False, ["revoked"])
    assert verdict.status == {"revocation": True, "suspension": False}

    # Signed by default (VC-JWT); it verifies with the same keys; a forged list is refused.
    signed = client.get("/api/v1/status-lists/1")
    assert signed.headers["content-type"] == VC
    assert jwt.get_unverified_header(signed.text)["typ"] == "JWT"
    assert client.get("/api/v1/status-lists/1", headers={"Accept": VC}).headers[
        "content-type"] == VC
    assert client.get("/api/v1/status-lists/1", headers={"Accept": "application/json"}).json()[
        "id"] == status_list["id"]
    verdict = credentials.verify_credential(token, _jwks(client), [signed.text])
    assert verdict.reasons == ["revoked"]
    head, _body, sig = signed.text.split(".")
    clean = dict(status_list)
    clean["credentialSubject"] = {**status_list["credentialSubject"],
                                  "encodedList": credentials.encode_list([])}
    forged_body = base64.urlsafe_b64encode(json.dumps(clean).encode()).rstrip(b"=").decode()
    forged = credentials.verify_credential(token, _jwks(client), [f"{head}.{forged_body}.{sig}"])
    assert "status_list_invalid" in forged.reasons
    for missing in ("other", "2", "0", "-1", "99999999999"):
        assert client.get(f"/api/v1/status-lists/{missing}").status_code == 404, missing
    assert client.get("/api/v1/status-lists/1?format=xml").status_code == 422


def test_suspension_and_reinstatement_change_the_entry(client, db, certified):
    number = _number(db)
    index = db.scalar(select(Certificate.status_index))
    db.commit()
    token = _credential(client, certified["auth"], number)
    _decide(db, number, "suspend")
    [status_list] = _lists(client)
    assert _entry(status_list, index) == 1
    verdict = credentials.verify_credential(token, _jwks(client), [status_list])
    assert (verdict.valid, verdict.reasons) == (False, ["suspended"])
    assert verdict.status == {"revocation": False, "suspension": True}
    _decide(db, number, "reinstate", reason="cleared")
    [status_list] = _lists(client)
    assert _entry(status_list, index) == 0
    assert credentials.verify_credential(token, _jwks(client), _lists(client)).valid is True


def test_key_rotation_keeps_old_credentials_verifiable(client, db, certified):
    number = _number(db)
    old = _credential(client, certified["auth"], number)
    old_kid = credentials.thumbprint_of(jwt.get_unverified_header(old)["kid"])
    new_kid = credentials.rotate_key(db)
    db.commit()
    assert new_kid != old_kid
    new = _credential(client, certified["auth"], number)
    assert jwt.get_unverified_header(new)["kid"] == f"{BASE}/api/v1/keys/{new_kid}"
    keys = _jwks(client)
    assert sorted(k["kid"] for k in keys["keys"]) == sorted(
        f"{BASE}/api/v1/keys/{kid}" for kid in (old_kid, new_kid))
    assert credentials.verify_credential(old, keys).valid is True
    assert credentials.verify_credential(new, keys).valid is True
    retired = db.get(SigningKey, old_kid)
    assert retired.retired_at is not None and db.get(SigningKey, new_kid).retired_at is None
    # The private key is stored encrypted, never in the clear.
    assert "ENCRYPTED PRIVATE KEY" in retired.private_key
    db.commit()
    result = CliRunner().invoke(cli, ["certificates", "rotate-key"])
    assert result.exit_code == 0, result.output
    db.commit()
    assert len(_jwks(client)["keys"]) == 3
    assert db.scalar(select(SigningKey.kid).where(SigningKey.retired_at.is_(None))) in \
        result.output


def test_cli_verifies_offline(client, db, certified, tmp_path):
    number = _number(db)
    token = _credential(client, certified["auth"], number)
    (tmp_path / "c.jwt").write_text(token)
    (tmp_path / "jwks.json").write_text(json.dumps(_jwks(client)))
    runner = CliRunner()
    ok = runner.invoke(cli, ["certificates", "verify", str(tmp_path / "c.jwt"),
                             "--jwks", str(tmp_path / "jwks.json")])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1] == "VALID" and "signature: ok" in ok.output
    head, body, signature = token.split(".")
    (tmp_path / "bad.jwt").write_text(f"{head}.{body[:-4]}AAAA.{signature}")
    bad = runner.invoke(cli, ["certificates", "verify", str(tmp_path / "bad.jwt"),
                              "--jwks", str(tmp_path / "jwks.json")])
    assert bad.exit_code == 1 and bad.output.splitlines()[-1] == "INVALID"

    _decide(db, number, "suspend")
    (tmp_path / "list.json").write_text(client.get("/api/v1/status-lists/1?format=json").text)
    suspended = runner.invoke(cli, ["certificates", "verify", str(tmp_path / "c.jwt"),
                                    "--jwks", str(tmp_path / "jwks.json"),
                                    "--status-list", str(tmp_path / "list.json")])
    assert suspended.exit_code == 1
    assert "revocation: clear" in suspended.output and "suspension: SET" in suspended.output
    _decide(db, number, "revoke")
    (tmp_path / "list.jwt").write_text(client.get("/api/v1/status-lists/1").text)
    revoked = runner.invoke(cli, ["certificates", "verify", str(tmp_path / "c.jwt"),
                                  "--jwks", str(tmp_path / "jwks.json"),
                                  "--status-list", str(tmp_path / "list.jwt")])
    assert revoked.exit_code == 1
    assert "revocation: SET" in revoked.output and "suspension: clear" in revoked.output
    assert "- revoked: The certificate has been revoked." in revoked.output


def test_verification_page(client, db, certified, make_client):
    number = _number(db)
    token = _credential(client, certified["auth"], number)
    visitor = make_client()
    page = visitor.get("/verify/credential")
    assert page.status_code == 200
    csrf = f.csrf_from(page.text)
    shown = visitor.post("/verify/credential", data={"token": token, "csrf_token": csrf})
    assert shown.status_code == 200
    assert "Valid credential" in shown.text and "Not valid" not in shown.text
    assert "张**" in shown.text and certified["worker"].full_name not in shown.text
    assert certified["worker"].id_number not in shown.text.replace(token, "")
    assert number in shown.text and "Special operations certificate: test work" in shown.text

    uploaded = visitor.post("/verify/credential", data={"csrf_token": csrf},
                            files={"file": ("c.jwt", token.encode(), VC)})
    assert "Valid credential" in uploaded.text

    _decide(db, number, "suspend")
    suspended = visitor.post("/verify/credential", data={"token": token, "csrf_token": csrf})
    assert "Not valid" in suspended.text and "The certificate is suspended." in suspended.text
    assert "has been revoked" not in suspended.text
    head, body, signature = token.split(".")
    forged = visitor.post("/verify/credential", data={
        "token": f"{head}.{body[:-4]}AAAA.{signature}", "csrf_token": csrf})
    assert "Not valid" in forged.text and "张**" not in forged.text
    assert "The signature does not match" in forged.text
    empty = visitor.post("/verify/credential", data={"token": " ", "csrf_token": csrf})
    assert empty.status_code == 422 and "Paste a credential" in empty.text
    no_csrf = make_client().post("/verify/credential", data={"token": token})
    assert no_csrf.status_code == 403 and "Valid credential" not in no_csrf.text


def test_access_to_the_credential(client, db, certified):
    ent = certified["enterprise"]
    other = f.enterprise(db, region="140105", name="Beta Colliery")
    f.user(db, Role.ENTERPRISE_ADMIN, username="alpha.admin", enterprise_id=ent.id)
    f.user(db, Role.ENTERPRISE_ADMIN, username="beta.admin", enterprise_id=other.id)
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    stranger = f.worker(db, ent, full_name="李四")
    db.commit()
    number = _number(db)
    url = f"/api/v1/certificates/{number}/credential"
    for username in ("root", "alpha.admin"):
        response = client.get(url, headers=f.token(client, username))
        assert response.status_code == 200, username
    assert client.get(url, headers=certified["auth"]).status_code == 200
    for username in ("beta.admin", "reg14", stranger.id_number):
        response = client.get(url, headers=f.token(client, username))
        assert response.status_code == 404, username
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get(url).status_code == 401


def test_jwks_creates_the_first_key_and_credentials_use_it(client, db, certified):
    number = _number(db)
    assert db.scalar(select(SigningKey.kid)) is None
    db.commit()
    [key] = _jwks(client)["keys"]
    assert _jwks(client)["keys"] == [key]
    token = _credential(client, certified["auth"], number)
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    assert key["kid"] == f"{BASE}/api/v1/keys/{db.scalar(select(SigningKey.kid))}"


def test_cli_fetches_keys_and_lists_from_the_issuer(client, db, certified, tmp_path,
                                                    monkeypatch):
    from app import cli as cli_module

    number = _number(db)
    token = _credential(client, certified["auth"], number)
    (tmp_path / "c.jwt").write_text(token)
    base = BASE
    fetched: list[str] = []

    def fetch(url: str, accept: str = "application/json") -> object:
        assert url.startswith(base + "/")
        fetched.append(url[len(base):])
        return client.get(url[len(base):], headers={"Accept": accept}).json()

    def fetch_text(url: str) -> str:
        assert url.startswith(base + "/")
        fetched.append(url[len(base):])
        return client.get(url[len(base):]).text

    monkeypatch.setattr(cli_module, "_fetch_json", fetch)
    monkeypatch.setattr(cli_module, "_fetch_text", fetch_text)
    ok = CliRunner().invoke(cli, ["certificates", "verify", str(tmp_path / "c.jwt")])
    assert ok.exit_code == 0, ok.output
    assert "revocation: clear" in ok.output and "suspension: clear" in ok.output
    assert fetched == ["/.well-known/jwks.json", "/api/v1/status-lists/1"]
    _decide(db, number, "suspend")
    suspended = CliRunner().invoke(cli, ["certificates", "verify", str(tmp_path / "c.jwt")])
    assert suspended.exit_code == 1 and "suspension: SET" in suspended.output


def test_claims_that_contradict_the_credential_are_refused(client, db, certified):
    number = _number(db)
    token = _credential(client, certified["auth"], number)
    payload = jwt.decode(token, options={"verify_signature": False})
    for claim, value in (("sub", "urn:uuid:00000000-0000-4000-8000-000000000000"),
                         ("iss", "https://elsewhere.example"), ("jti", "urn:x"),
                         ("nbf", payload["nbf"] - 86_400)):
        forged = credentials._sign(db, {**payload, claim: value})
        verdict = credentials.verify_credential(forged, _jwks(client))
        assert (verdict.valid, verdict.reasons) == (False, ["claims_mismatch"]), claim


def test_credentials_in_the_earlier_two_entry_format_still_verify(client, db, certified):
    # Before migration 0007 a credential carried two 1-bit entries (revocation, suspension)
    # pointing at lists of those names; they are still published and read.
    number = _number(db)
    index = db.scalar(select(Certificate.status_index))
    db.commit()
    payload = jwt.decode(_credential(client, certified["auth"], number),
                         options={"verify_signature": False})
    payload["credentialStatus"] = [
        {"id": f"{BASE}/api/v1/status-lists/{p}#{index}", "type": "BitstringStatusListEntry",
         "statusPurpose": p, "statusListIndex": str(index),
         "statusListCredential": f"{BASE}/api/v1/status-lists/{p}"}
        for p in ("revocation", "suspension")]
    old = credentials._sign(db, payload)
    db.commit()
    lists = [client.get(f"/api/v1/status-lists/{p}").text for p in ("revocation", "suspension")]
    verdict = credentials.verify_credential(old, _jwks(client), lists)
    assert (verdict.valid, verdict.status) == (True, {"revocation": False, "suspension": False})
    _decide(db, number, "suspend")
    lists = [client.get(f"/api/v1/status-lists/{p}").text for p in ("revocation", "suspension")]
    verdict = credentials.verify_credential(old, _jwks(client), lists)
    assert (verdict.valid, verdict.reasons) == (False, ["suspended"])
    assert verdict.status == {"revocation": False, "suspension": True}
    _decide(db, number, "revoke")
    lists = [client.get(f"/api/v1/status-lists/{p}?format=json").json()
             for p in ("revocation", "suspension")]
    verdict = credentials.verify_credential(old, _jwks(client), lists)
    assert (verdict.valid, verdict.reasons) == (False, ["revoked"])
