"""Start-up and secrets: services mode needs a key, embedded mode makes one, secrets never reach logs."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from gateway import GatewaySettings, MissingSecretsError, create_app
from gateway.keys import KeyConfigError, generate_key, load_keys, private_pem
from observability import configure_logging
from observability.settings import ObservabilitySettings
from tests.gateway.conftest import PASSWORD, add_user, login


@pytest.mark.unit
def test_services_mode_refuses_to_start_without_a_signing_key(tmp_path: Path) -> None:
    settings = GatewaySettings(
        mode="services", database_url=f"sqlite+aiosqlite:///{tmp_path}/g.db", redis_url=None
    )
    with pytest.raises(MissingSecretsError, match="GATEWAY_JWT_PRIVATE_KEY"):
        create_app(settings)


@pytest.mark.unit
def test_embedded_mode_generates_an_ephemeral_key_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = GatewaySettings(
        mode="embedded", database_url=f"sqlite+aiosqlite:///{tmp_path}/g.db", redis_url=None
    )
    app = create_app(settings)
    assert app.state.gateway.ring.jwks()["keys"]
    assert "ephemeral_jwt_keys" in capsys.readouterr().out


@pytest.mark.unit
def test_the_environment_configures_the_key_and_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    key = generate_key("RS256")
    monkeypatch.setenv("GATEWAY_JWT_PRIVATE_KEY", private_pem(key))
    monkeypatch.setenv("GATEWAY_ALLOWED_HOSTS", "api.example, localhost")
    settings = GatewaySettings()
    assert settings.allowed_hosts == ("api.example", "localhost")
    assert settings.jwt_private_key is not None
    assert private_pem(key) not in repr(settings)  # SecretStr: a settings dump never prints the key
    assert load_keys(settings.jwt_private_key.get_secret_value())[0].kid == key.kid


@pytest.mark.unit
def test_a_cors_wildcard_is_refused() -> None:
    with pytest.raises(ValidationError, match="allowlist"):
        GatewaySettings(cors_origins=("*",))


@pytest.mark.unit
def test_a_garbage_or_weak_key_is_refused() -> None:
    with pytest.raises(KeyConfigError):
        load_keys("not a pem")
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: PLC0415

    weak_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - the key under test
    weak = weak_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(KeyConfigError, match="2048"):
        load_keys(weak.decode())


@pytest.mark.integration
async def test_no_password_or_token_appears_in_the_logs_of_a_login_and_refresh(
    pg_app: tuple[FastAPI, httpx.AsyncClient],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every log line (ours at DEBUG, libraries', the access log) is scanned for the secrets of the flow."""
    app, client = pg_app
    configure_logging("gateway", "DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        logs, secrets = await _run_the_flow(app, client, capsys, caplog)
    finally:
        configure_logging("gateway", ObservabilitySettings().log_level)
    assert "login_succeeded" in logs  # we did capture the gateway's lines
    leaked = [secret[:12] + "..." for secret in secrets if secret in logs]
    assert leaked == []


async def _run_the_flow(
    app: FastAPI,
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> tuple[str, list[str]]:
    await add_user(app, "quinn")
    first = (await login(client, "quinn")).json()
    second = (await client.post("/auth/refresh", data={"refresh_token": first["refresh_token"]})).json()
    await client.post(
        "/auth/refresh", data={"refresh_token": first["refresh_token"]}
    )  # reuse: warning logged
    await login(client, "quinn", "wrong password here")
    await client.get("/users/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    captured = capsys.readouterr()
    secrets = [PASSWORD, "wrong password here", first["access_token"], first["refresh_token"]]
    secrets += [second["access_token"], second["refresh_token"]]
    return captured.out + captured.err + caplog.text, secrets
