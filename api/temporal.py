"""How the API and the worker reach Temporal: address, namespace, and optional TLS / API key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr, model_validator
from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import Runtime


class TemporalConnection(BaseModel):
    """Settings fields shared by the API's and the worker's settings (YEARWHEEL_TEMPORAL_*)."""

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_tls_server_name: str | None = None
    temporal_api_key: SecretStr | None = None

    @model_validator(mode="after")
    def _check_tls(self) -> TemporalConnection:
        if (self.temporal_tls_cert is None) != (self.temporal_tls_key is None):
            raise ValueError(
                "YEARWHEEL_TEMPORAL_TLS_CERT and YEARWHEEL_TEMPORAL_TLS_KEY go together"
            )
        for name in ("temporal_tls_ca", "temporal_tls_cert", "temporal_tls_key"):
            path: Path | None = getattr(self, name)
            if path is not None and not path.is_file():
                raise ValueError(f"YEARWHEEL_{name.upper()}: {path} is not a readable file")
        if self.temporal_api_key is not None and len(self.temporal_api_key.get_secret_value()) < 8:
            raise ValueError("YEARWHEEL_TEMPORAL_API_KEY looks like a placeholder")
        return self

    def tls_option(self) -> TLSConfig | bool | None:
        """A TLSConfig when any TLS file or name is set; True when only TLS is asked for;
        None otherwise, so an API key alone still turns TLS on in the SDK."""
        files = (self.temporal_tls_ca, self.temporal_tls_cert, self.temporal_tls_key)
        if any(files) or self.temporal_tls_server_name:
            return TLSConfig(
                server_root_ca_cert=_read(self.temporal_tls_ca),
                client_cert=_read(self.temporal_tls_cert),
                client_private_key=_read(self.temporal_tls_key),
                domain=self.temporal_tls_server_name,
            )
        return True if self.temporal_tls else None

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "namespace": self.temporal_namespace,
            "data_converter": pydantic_data_converter,
        }
        tls = self.tls_option()
        if tls is not None:
            options["tls"] = tls
        if self.temporal_api_key is not None:
            options["api_key"] = self.temporal_api_key.get_secret_value()
        return options


def _read(path: Path | None) -> bytes | None:
    return path.read_bytes() if path is not None else None


async def connect_temporal(
    connection: TemporalConnection, *, lazy: bool = False, runtime: Runtime | None = None
) -> Client:
    """A client with the project's data converter and the connection's TLS settings."""
    return await Client.connect(
        connection.temporal_address, lazy=lazy, runtime=runtime, **connection.client_options()
    )
