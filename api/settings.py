"""Settings of the HTTP API, read from ``FLOWOPT_*`` environment variables.

Environment -> :class:`Settings` (frozen). Every variable is optional; unset or empty variables
take the documented default. A bad value stops the server at startup with a message naming the
variable, what is wrong and how to fix it (``SettingsError``).

========================================  ==========================================================
variable                                  meaning (default)
========================================  ==========================================================
``FLOWOPT_HOST`` / ``FLOWOPT_PORT``       address and port ``flowopt serve`` binds (127.0.0.1:8000)
``FLOWOPT_DATA_DIR``                      folder of the default database file (current folder)
``FLOWOPT_DATABASE_URL``                  SQLAlchemy URL (``sqlite:///<DATA_DIR>/flowopt-api.db``)
``FLOWOPT_API_KEYS``                      comma-separated write keys; none = writes open (dev only)
``FLOWOPT_READ_REQUIRES_KEY``             ``true`` makes reads need a key too (false)
``FLOWOPT_CORS_ORIGINS``                  comma-separated browser origins allowed (none)
``FLOWOPT_SOLVE_TIME_LIMIT_S``            HiGHS time limit per solve, seconds (30)
``FLOWOPT_SOLVE_WALL_LIMIT_S``            wall-clock kill of a solve, seconds (2 x time limit + 30)
``FLOWOPT_MAX_BODY_BYTES``                largest request body (4 MiB)
``FLOWOPT_MAX_SCENARIO_ROWS``             most table rows in one scenario (20000)
``FLOWOPT_WORKERS``                       solver worker processes (2)
``FLOWOPT_QUEUE_SIZE``                    solves that may wait for a worker (64)
``FLOWOPT_SYNC_WAIT_S``                   how long ``POST /v1/plans`` waits before answering 202 (2)
``FLOWOPT_WORKER_MAX_JOBS``               solves before a worker process is replaced (200)
``FLOWOPT_WARM_WORKERS``                  start and warm workers at startup (true)
``FLOWOPT_LOG_LEVEL``                     uvicorn and flowopt log level (info)
``FLOWOPT_RATE_LIMIT_PER_S``              requests per second per client, sustained; 0 = off (20)
``FLOWOPT_RATE_LIMIT_BURST``              requests a client may send at once above that rate (60)
========================================  ==========================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_PREFIX = "FLOWOPT_"
_LIST_FIELDS = ("api_keys", "cors_origins")


class SettingsError(ValueError):
    """A ``FLOWOPT_*`` variable has an unusable value; the message names it and the fix."""


class Settings(BaseModel):
    """Everything the API reads from the environment; build it with :meth:`from_env`.

    Attributes are documented in the module docstring; the environment variable of a field is
    ``FLOWOPT_`` + the field name in capitals.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8000
    data_dir: Path = Path()
    database_url: str | None = None
    api_keys: tuple[str, ...] = ()
    read_requires_key: bool = False
    cors_origins: tuple[str, ...] = ()
    solve_time_limit_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = 30.0
    solve_wall_limit_s: Annotated[float, Field(gt=0, le=7200, allow_inf_nan=False)] | None = None
    max_body_bytes: Annotated[int, Field(ge=1024, le=1 << 30)] = 4 << 20
    max_scenario_rows: Annotated[int, Field(ge=1, le=1_000_000)] = 20_000
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    queue_size: Annotated[int, Field(ge=1, le=10_000)] = 64
    sync_wait_s: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 2.0
    worker_max_jobs: Annotated[int, Field(ge=1)] = 200
    warm_workers: bool = True
    log_level: str = "info"
    rate_limit_per_s: Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)] = 20.0
    rate_limit_burst: Annotated[int, Field(ge=1, le=1_000_000)] = 60

    @field_validator("api_keys")
    @classmethod
    def _keys_long_enough(cls, keys: tuple[str, ...]) -> tuple[str, ...]:
        for i, key in enumerate(keys, 1):
            if len(key) < 16 or not key.isascii() or not key.isprintable():
                msg = f"key {i} is shorter than 16 characters or not printable ASCII; generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                raise ValueError(msg)
        return keys

    @field_validator("cors_origins")
    @classmethod
    def _explicit_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                msg = f"origin {origin!r} is not an explicit origin; list each dashboard origin such as https://dashboard.example.cn (no '*')"
                raise ValueError(msg)
        return origins

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        level = level.lower()
        if level not in {"critical", "error", "warning", "info", "debug"}:
            msg = f"unknown log level {level!r}; use critical, error, warning, info or debug"
            raise ValueError(msg)
        return level

    @property
    def effective_database_url(self) -> str:
        """The database URL: ``database_url`` or a SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'flowopt-api.db').resolve()}"

    @property
    def effective_wall_limit_s(self) -> float:
        """Wall-clock seconds after which a running solve is killed.

        The default leaves room for the diagnosis of an infeasible target (a second solve) and
        for building and auditing the model, which the solver's own limit does not cover.
        """
        if self.solve_wall_limit_s is not None:
            return self.solve_wall_limit_s
        return 2 * self.solve_time_limit_s + 30.0

    @property
    def writes_open(self) -> bool:
        """True when no API key is configured: writes need no key (local development only)."""
        return not self.api_keys

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read settings from ``FLOWOPT_*`` variables.

        Args:
            environ: the environment (default ``os.environ``).
            **overrides: field values that win over the environment (``host``/``port`` from
                ``flowopt serve --host/--port``); ``None`` values are ignored.

        Returns:
            The settings.

        Raises:
            SettingsError: naming every variable with an unusable value.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None or not raw.strip():
                continue
            raw = raw.strip()
            values[name] = tuple(x.strip() for x in raw.split(",") if x.strip()) if name in _LIST_FIELDS else raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            lines = []
            for err in exc.errors(include_url=False):
                field = str(err["loc"][0]) if err["loc"] else "?"
                # never echo a key value back into logs
                shown = "" if field == "api_keys" else f" (got {err.get('input')!r})"
                lines.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}{shown}.")
            msg = "Invalid API settings:\n  " + "\n  ".join(lines)
            raise SettingsError(msg) from None
