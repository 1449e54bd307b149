"""The one settings schema: environment (``STRONGROOM_*``), a TOML file, and command-line flags.

Precedence, highest first: values passed by the entry point (command-line flags), environment
variables, the TOML file named by ``STRONGROOM_CONFIG`` or ``--config``, then the defaults here.
Settings are frozen once read; the entry point loads them once and passes them down
(:func:`load_settings`); nothing in the package reads the environment on its own.

``strongroom config show`` prints the resolved values and ``docs/configuration.md`` is generated
from this schema (``tests/test_docs.py`` keeps it current).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from strongroom.errors import InvalidInput

GB = 1000**3


class Settings(BaseSettings):
    """Everything an operator can set.  Paths left empty are derived from ``data``."""

    model_config = SettingsConfigDict(
        env_prefix="STRONGROOM_", frozen=True, extra="forbid", validate_default=True
    )

    config: Path | None = Field(None, description="TOML file to read settings from.")
    data: Path = Field(Path("data"), description="Data folder: database, blobs and master key.")
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. Default: SQLite file `strongroom.db` in the data folder "
        "(WAL mode). PostgreSQL: `postgresql://user@host/dbname`.",
    )
    blobs: str = Field(
        "",
        description="Where encrypted content is kept: a folder path, `file:///path`, "
        "`s3://bucket/prefix` or `memory://`. Default: `blobs/` in the data folder.",
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="S3 endpoint for non-AWS stores (MinIO, Ceph, Garage). Credentials and region "
        "come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION.",
    )
    master_key_file: Path | None = Field(
        None,
        description="The 256-bit master key (mode 0600). Default: `master.key` in the data "
        "folder. Production keeps it apart from the database backups.",
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8750, ge=0, le=65535, description="Port to listen on.")
    tls_cert: Path | None = Field(None, description="PEM certificate: serve HTTPS.")
    tls_key: Path | None = Field(None, description="PEM private key for `tls_cert`.")
    public_url: str | None = Field(
        None, description="The address users reach the server at (for share links)."
    )
    open_signup: bool = Field(True, description="Anyone may create an account from the web page.")
    run_jobs: bool = Field(
        True, description="`strongroom serve` also runs background jobs (off when workers do)."
    )
    default_region: str = Field(
        "US", min_length=2, max_length=2, description="Region for numbers without country code."
    )
    default_quota_bytes: int = Field(50 * GB, ge=0, description="Storage quota of new accounts.")
    max_body_bytes: int = Field(
        128 * 1024 * 1024, ge=1024, description="Largest request body outside resumable uploads."
    )
    session_days: int = Field(30, ge=1, description="Web sessions last this long when idle.")
    login_slow_after: int = Field(
        3, ge=1, description="Failed logins (per user or address) before each answer is slowed."
    )
    login_max_failures: int = Field(
        10, ge=1, description="Failed logins (per user or address) before logins are refused."
    )
    login_lockout_seconds: int = Field(900, ge=1, description="How long a lockout lasts.")
    login_delay_cap_seconds: float = Field(
        2.0, ge=0, description="Longest slowdown added to one failed login."
    )
    account_hold_days: int = Field(
        180, ge=0, description="A cancelled account is kept this long, then purged."
    )
    change_history_days: int = Field(
        180, ge=1, description="Change records and tombstones are kept this long."
    )
    trash_days: int = Field(30, ge=0, description="Deleted files stay in the trash this long.")
    file_versions_kept: int = Field(
        10, ge=1, description="Versions kept of each locker file (the current one included)."
    )
    reclaim_grace_hours: int = Field(
        48,
        ge=0,
        description="Stored chunks no longer used are deleted after this long (uploads that "
        "take longer than this may have to send those chunks again).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        # Frozen models cannot be assigned to; derived defaults are filled in place once.
        data = self.data.expanduser()
        object.__setattr__(self, "data", data)
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{data / 'strongroom.db'}")
        if not self.blobs:
            object.__setattr__(self, "blobs", f"file://{(data / 'blobs').absolute()}")
        if self.master_key_file is None:
            object.__setattr__(self, "master_key_file", data / "master.key")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be given together")
        return self

    @property
    def key_file(self) -> Path:
        """The master key path, resolved."""
        assert self.master_key_file is not None  # set by _derive_paths
        return self.master_key_file


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the TOML file named by the ``config`` setting given by a higher source."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        path = self.current_state.get("config")
        if not path:
            return {}
        path = Path(path).expanduser()
        try:
            with path.open("rb") as f:
                values = tomllib.load(f)
        except FileNotFoundError:
            raise InvalidInput(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as e:
            raise InvalidInput(f"config file {path} is not valid TOML: {e}") from None
        values = dict(values.get("strongroom", values))
        unknown = set(values) - set(Settings.model_fields)
        if unknown:
            raise InvalidInput(
                f"config file {path}: unknown setting(s) {', '.join(sorted(unknown))}"
            )
        return {str(k): v for k, v in values.items()}


def load_settings(**overrides: Any) -> Settings:
    """Read settings once, at an entry point; ``overrides`` are command-line values (None = unset).

    Raises InvalidInput with a readable message for bad values or a bad config file.
    """
    from pydantic import ValidationError

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in e.errors()
        )
        raise InvalidInput(f"bad configuration: {problems}") from None
