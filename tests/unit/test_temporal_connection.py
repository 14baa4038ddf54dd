"""How the API and the worker reach Temporal: TLS and API-key settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.client import TLSConfig

from api.temporal import TemporalConnection


def test_plain_connection_passes_no_tls() -> None:
    options = TemporalConnection().client_options()
    assert "tls" not in options and "api_key" not in options
    assert options["namespace"] == "default"


def test_tls_flag_alone_asks_for_system_roots() -> None:
    assert TemporalConnection(temporal_tls=True).tls_option() is True


def test_files_build_a_tls_config(tmp_path: Path) -> None:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_bytes(f"-- {name} --".encode())
    connection = TemporalConnection(
        temporal_tls_ca=tmp_path / "ca.pem",
        temporal_tls_cert=tmp_path / "cert.pem",
        temporal_tls_key=tmp_path / "key.pem",
        temporal_tls_server_name="temporal.internal",
    )
    tls = connection.tls_option()
    assert isinstance(tls, TLSConfig)
    assert tls.server_root_ca_cert == b"-- ca.pem --"
    assert tls.client_cert == b"-- cert.pem --"
    assert tls.client_private_key == b"-- key.pem --"
    assert tls.domain == "temporal.internal"


def test_api_key_alone_leaves_tls_to_the_sdk() -> None:
    options = TemporalConnection(temporal_api_key="k" * 40).client_options()
    assert options["api_key"] == "k" * 40
    assert "tls" not in options


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"temporal_tls_cert": "cert.pem"}, "go together"),
        ({"temporal_tls_ca": "missing.pem"}, "not a readable file"),
        ({"temporal_api_key": "x"}, "placeholder"),
    ],
)
def test_bad_settings_fail_with_a_reason(
    tmp_path: Path, fields: dict[str, str], message: str
) -> None:
    (tmp_path / "cert.pem").write_text("cert")
    resolved = {
        k: (str(tmp_path / v) if k != "temporal_api_key" else v) for k, v in fields.items()
    }
    with pytest.raises(ValidationError, match=message):
        TemporalConnection.model_validate(resolved)
