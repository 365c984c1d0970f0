"""Every setting comes from the environment or `.env`; secrets stay wrapped in SecretStr."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge" / "deepseek.yaml"


class Settings(BaseSettings):
    """Operator configuration; see `.env.example` for what each one means."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    knowledge_path: Path = DEFAULT_KNOWLEDGE
    moderator_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    log_level: str = "INFO"
    data_dir: Path = Path("data")

    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None

    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_base_file_url: str = "https://api.telegram.org/file/bot"

    user_rate_limit: int = Field(default=20, ge=1, description="questions per user per minute")

    database_url: str | None = None
    user_hash_secret: SecretStr | None = None
    retention_days: int = Field(default=90, ge=1, description="days the question log keeps")

    @field_validator("moderator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept "123, 456" from the environment as well as a list."""
        if isinstance(value, str):
            return frozenset(
                int(part) for part in value.replace(";", ",").split(",") if part.strip()
            )
        return value

    @field_validator(
        "telegram_bot_token", "webhook_secret", "user_hash_secret", "database_url", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        """An empty `NAME=` line in `.env` means "not set" (no token, a generated user-hash
        key, the SQLite log in DATA_DIR), never an empty value."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @model_validator(mode="after")
    def _log_follows_data_dir(self) -> Settings:
        """Unset, the question log is a SQLite file beside the other runtime data."""
        if self.database_url is None:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'questions.db'}"
        return self

    @property
    def log_url(self) -> str:
        """The question log's SQLAlchemy URL, always set once the settings are built."""
        assert self.database_url is not None
        return self.database_url
