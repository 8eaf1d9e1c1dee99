"""All configuration in one place, read from environment variables with safe defaults for a local start."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / 'data'


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {'1', 'true', 'yes', 'ja', 'on'}


def _storage_secret() -> str:
    """A secret from the environment, else one generated once and kept under data/ (never committed)."""
    if secret := os.environ.get('STORAGE_SECRET'):
        return secret
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / '.storage_secret'
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding='utf-8')
        path.chmod(0o600)
    return path.read_text(encoding='utf-8').strip()


def _database_url() -> str:
    if url := os.environ.get('DATABASE_URL'):
        return url
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f'sqlite://{DATA_DIR / "portal.db"}'


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_database_url)
    storage_secret: str = field(default_factory=_storage_secret)
    host: str = field(default_factory=lambda: os.environ.get('HOST', '127.0.0.1'))
    port: int = field(default_factory=lambda: _int('PORT', 8080))
    public_url: str = field(default_factory=lambda: os.environ.get('PUBLIC_URL', ''))
    load_demo_data: bool = field(default_factory=lambda: _bool('DEMO_DATA', True))
    # argon2id: OWASP's minimum is m=19 MiB, t=2, p=1; the default doubles the memory (bench/login.py measures it).
    argon2_time_cost: int = field(default_factory=lambda: _int('ARGON2_TIME_COST', 2))
    argon2_memory_kib: int = field(default_factory=lambda: _int('ARGON2_MEMORY_KIB', 32768))
    argon2_parallelism: int = field(default_factory=lambda: _int('ARGON2_PARALLELISM', 1))
    max_parallel_hashes: int = field(default_factory=lambda: _int('MAX_PARALLEL_HASHES', 4))
    session_idle_timeout: timedelta = field(
        default_factory=lambda: timedelta(minutes=_int('SESSION_IDLE_MINUTES', 30))
    )
    session_absolute_timeout: timedelta = field(
        default_factory=lambda: timedelta(hours=_int('SESSION_ABSOLUTE_HOURS', 12))
    )
    login_max_failures: int = field(default_factory=lambda: _int('LOGIN_MAX_FAILURES', 5))
    login_base_lock: timedelta = field(default_factory=lambda: timedelta(seconds=_int('LOGIN_BASE_LOCK_SECONDS', 60)))
    login_max_lock: timedelta = field(default_factory=lambda: timedelta(hours=1))
    client_max_failures: int = field(default_factory=lambda: _int('CLIENT_MAX_FAILURES', 20))
    client_window: timedelta = field(default_factory=lambda: timedelta(minutes=15))
    code_max_failures: int = field(default_factory=lambda: _int('CODE_MAX_FAILURES', 10))
    code_max_years_ahead: int = 3
    # Applications complete by this day of a month start on the 1st of the next month; a Kündigung received by it
    # ends the Abo at the end of the month (later: end of the next month).
    cutoff_day: int = field(default_factory=lambda: _int('CUTOFF_DAY', 10))
    tariff_file: Path = field(
        default_factory=lambda: Path(os.environ.get('TARIFF_FILE', PROJECT_DIR / 'services' / 'tarife.toml'))
    )
    kiosk_idle_seconds: int = field(default_factory=lambda: _int('KIOSK_IDLE_SECONDS', 90))
    # Massenupload: the largest file (bytes) and the most data rows one upload may have.
    massenupload_max_bytes: int = field(default_factory=lambda: _int('MASSENUPLOAD_MAX_BYTES', 5 * 1024 * 1024))
    massenupload_max_rows: int = field(default_factory=lambda: _int('MASSENUPLOAD_MAX_ROWS', 10_000))
    # Files are read in a pool of their own (never the threads of logins and pages): this many at once, this many
    # more waiting; beyond that an upload is asked to come back later.
    massenupload_workers: int = field(default_factory=lambda: _int('MASSENUPLOAD_WORKERS', 2))
    massenupload_queue: int = field(default_factory=lambda: _int('MASSENUPLOAD_QUEUE', 4))
    kiosk_countdown_seconds: int = field(default_factory=lambda: _int('KIOSK_COUNTDOWN_SECONDS', 15))
    # E-mail for invitation and password links; without SMTP_HOST no mail is sent and the link is only shown.
    smtp_host: str = field(default_factory=lambda: os.environ.get('SMTP_HOST', ''))
    smtp_port: int = field(default_factory=lambda: _int('SMTP_PORT', 587))
    smtp_user: str = field(default_factory=lambda: os.environ.get('SMTP_USER', ''))
    smtp_password: str = field(default_factory=lambda: os.environ.get('SMTP_PASSWORD', ''), repr=False)
    smtp_from: str = field(default_factory=lambda: os.environ.get('SMTP_FROM', 'firmenportal@localhost'))
    # 'starttls' (port 587), 'ssl' (port 465) or 'none' (a relay on the local network only)
    smtp_security: str = field(default_factory=lambda: os.environ.get('SMTP_SECURITY', 'starttls').strip().lower())
    smtp_timeout_seconds: int = field(default_factory=lambda: _int('SMTP_TIMEOUT_SECONDS', 15))


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def reset_settings() -> None:
    """Re-read the environment (used by tests that change it)."""
    global _settings
    _settings = None
