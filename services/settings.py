"""All configuration in one place, read from environment variables with safe defaults for a local start.

The settings fail closed: every variable is typed and range-checked (pydantic-settings), and a wrong value stops the
start with a message naming the variable instead of quietly running with a default or, worse, half of a value (an
SMTP_SECURITY of 'tls' used to send without TLS). Outside local development STORAGE_SECRET must be set.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_DIR / 'data'
SECRET_VARIABLES = frozenset({'STORAGE_SECRET', 'SMTP_PASSWORD'})
TRUE_WORDS = frozenset({'1', 'true', 'yes', 'ja', 'on'})
FALSE_WORDS = frozenset({'0', 'false', 'no', 'nein', 'off'})
ROLES = frozenset({'admin', 'clerk', 'readonly', 'staff'})  # models.Role's values (models import services)


class InvalidSettings(Exception):
    """A variable holds a value the portal refuses; the message names each variable and what is wrong with it."""


def is_loopback(host: str) -> bool:
    """127.0.0.1, ::1 and 'localhost': nobody but this machine can reach the portal."""
    if host.strip().lower() == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host.strip().strip('[]')).is_loopback
    except ValueError:
        return False


def _local_storage_secret() -> str:
    """A secret generated once and kept under data/ (never committed), for local development only."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / '.storage_secret'
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48), encoding='utf-8')
        path.chmod(0o600)
    return path.read_text(encoding='utf-8').strip()


def _database_url() -> str:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return f'sqlite://{DATA_DIR / "portal.db"}'


def _env(name: str, default: Any, **constraints: Any) -> Any:
    """A field read from the environment variable `name` (exactly that name, so the README's names are the truth)."""
    return Field(default, validation_alias=name, **constraints)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra='ignore', case_sensitive=True, populate_by_name=False)

    database_url: str = Field(default_factory=_database_url, validation_alias='DATABASE_URL', min_length=1)
    # Empty means: generate one under data/ — allowed in local development only (see `check_storage_secret`).
    storage_secret: str = Field('', validation_alias='STORAGE_SECRET', repr=False)
    host: str = _env('HOST', '127.0.0.1', min_length=1)
    port: int = _env('PORT', 8080, ge=1, le=65535)
    public_url: str = _env('PUBLIC_URL', '')
    # Session cookies only over HTTPS; unset: on when PUBLIC_URL is https (behind a TLS proxy).
    session_cookie_secure_setting: bool | None = _env('SESSION_COOKIE_SECURE', None)
    # Further roles that must log in with a second factor (comma list); staff always (they see every customer).
    second_factor_roles_setting: str = _env('SECOND_FACTOR_ROLES', '')
    load_demo_data: bool = _env('DEMO_DATA', True)
    # argon2id: OWASP's minimum is m=19 MiB, t=2, p=1; the default doubles the memory (bench/login.py measures it).
    argon2_time_cost: int = _env('ARGON2_TIME_COST', 2, ge=1, le=20)
    argon2_memory_kib: int = _env('ARGON2_MEMORY_KIB', 32768, ge=1024, le=4 * 1024 * 1024)
    argon2_parallelism: int = _env('ARGON2_PARALLELISM', 1, ge=1, le=16)
    max_parallel_hashes: int = _env('MAX_PARALLEL_HASHES', 4, ge=1, le=64)
    session_idle_minutes: int = _env('SESSION_IDLE_MINUTES', 30, ge=1)
    session_absolute_hours: int = _env('SESSION_ABSOLUTE_HOURS', 12, ge=1)
    login_max_failures: int = _env('LOGIN_MAX_FAILURES', 5, ge=1)
    login_base_lock_seconds: int = _env('LOGIN_BASE_LOCK_SECONDS', 60, ge=1)
    # Throttles (services/login_throttle.py, README "Drosselung"): per device a few typos within 15 minutes; per
    # address (a whole office behind one NAT) many within an hour.
    device_max_failures: int = _env('DEVICE_MAX_FAILURES', 10, ge=1)
    client_max_failures: int = _env('CLIENT_MAX_FAILURES', 200, ge=1)
    code_max_failures: int = _env('CODE_MAX_FAILURES', 10, ge=1)
    code_client_max_failures: int = _env('CODE_CLIENT_MAX_FAILURES', 1000, ge=1)
    # Proxies whose X-Forwarded-For names the client (comma list of addresses or networks, '*' for any); empty:
    # the socket peer is the client, whatever a request claims.
    forwarded_allow_ips: str = _env('FORWARDED_ALLOW_IPS', '')
    # Applications complete by this day of a month start on the 1st of the next month; a Kündigung received by it
    # ends the Abo at the end of the month (later: end of the next month).
    cutoff_day: int = _env('CUTOFF_DAY', 10, ge=1, le=31)
    tariff_file: Path = _env('TARIFF_FILE', PROJECT_DIR / 'services' / 'tarife.toml')
    kiosk_idle_seconds: int = _env('KIOSK_IDLE_SECONDS', 90, ge=1)
    # Operator texts (impressum.md, datenschutz.md, barrierefreiheit.md, hilfe.md): a file here replaces the default
    # of the same name in legal/ (services/legal.py); empty: the defaults only.
    legal_dir: Path | None = _env('LEGAL_DIR', None)
    # The contact for accessibility feedback named in the Erklärung zur Barrierefreiheit and the footer.
    accessibility_contact: str = _env('ACCESSIBILITY_CONTACT', 'barrierefreiheit@verkehrsbetrieb-demo.de', min_length=3,
                                      max_length=254)
    # Massenupload: the largest file (bytes) and the most data rows one upload may have.
    massenupload_max_bytes: int = _env('MASSENUPLOAD_MAX_BYTES', 5 * 1024 * 1024, ge=1)
    massenupload_max_rows: int = _env('MASSENUPLOAD_MAX_ROWS', 10_000, ge=1)
    # Files are read in a pool of their own (never the threads of logins and pages): this many at once, this many
    # more waiting; beyond that an upload is asked to come back later.
    massenupload_workers: int = _env('MASSENUPLOAD_WORKERS', 2, ge=1, le=16)
    massenupload_queue: int = _env('MASSENUPLOAD_QUEUE', 4, ge=0, le=100)
    # WCAG 2.2.1: a person gets at least 20 s to ask for more time before the kiosk wipes the screen.
    kiosk_countdown_seconds: int = _env('KIOSK_COUNTDOWN_SECONDS', 20, ge=20, le=300)
    # After a sent Antrag the kiosk shows only its reference, and wipes even that after this many seconds (≤ 30).
    kiosk_done_seconds: int = _env('KIOSK_DONE_SECONDS', 30, ge=5, le=30)
    # E-mail for invitation and password links; without SMTP_HOST no mail is sent and the link is only shown.
    smtp_host: str = _env('SMTP_HOST', '')
    smtp_port: int = _env('SMTP_PORT', 587, ge=1, le=65535)
    smtp_user: str = _env('SMTP_USER', '')
    smtp_password: str = Field('', validation_alias='SMTP_PASSWORD', repr=False)
    smtp_from: str = _env('SMTP_FROM', 'firmenportal@localhost', min_length=3)
    # 'starttls' (port 587), 'ssl' (port 465) or 'none' (a relay on the local network only); nothing else.
    smtp_security: Literal['starttls', 'ssl', 'none'] = _env('SMTP_SECURITY', 'starttls')
    smtp_timeout_seconds: int = _env('SMTP_TIMEOUT_SECONDS', 15, ge=1, le=600)
    # The transit company as the issuer of invoices (Rechnung) and creditor of direct debits (SEPA-Lastschrift); the
    # defaults are demo data for a local start: a real installation sets every one of them.
    invoice_issuer_name: str = _env('INVOICE_ISSUER_NAME', 'Verkehrsbetrieb Demo GmbH', min_length=1, max_length=70)
    invoice_issuer_street: str = _env('INVOICE_ISSUER_STREET', 'Königsplatz 59', min_length=1, max_length=70)
    invoice_issuer_plz: str = _env('INVOICE_ISSUER_PLZ', '34117', pattern=r'^\d{5}$')
    invoice_issuer_city: str = _env('INVOICE_ISSUER_CITY', 'Kassel', min_length=1, max_length=70)
    invoice_issuer_vat_id: str = _env('INVOICE_ISSUER_VAT_ID', 'DE123456789', pattern=r'^[A-Z]{2}[0-9A-Z]{2,13}$')
    invoice_issuer_iban: str = _env('INVOICE_ISSUER_IBAN', 'DE02120300000000202051')
    invoice_issuer_bic: str = _env('INVOICE_ISSUER_BIC', 'BYLADEM1001', pattern=r'^[A-Z0-9]{8}([A-Z0-9]{3})?$')
    invoice_issuer_email: str = _env('INVOICE_ISSUER_EMAIL', 'rechnung@verkehrsbetrieb-demo.de', min_length=3)
    # Invoice numbers: PREFIX-YEAR-000001, one gap-free series per prefix; VAT on public transport (§ 12 Abs. 2 UStG).
    invoice_number_prefix: str = _env('INVOICE_NUMBER_PREFIX', 'RE', pattern=r'^[A-Z]{1,6}$')
    invoice_vat_percent: int = _env('INVOICE_VAT_PERCENT', 7, ge=0, le=100)
    invoice_payment_days: int = _env('INVOICE_PAYMENT_DAYS', 14, ge=0, le=90)
    # SEPA: the Gläubiger-Identifikationsnummer and how many days after the file is made the debit is due.
    sepa_creditor_id: str = _env('SEPA_CREDITOR_ID', 'DE98ZZZ09999999999')
    sepa_lead_days: int = _env('SEPA_LEAD_DAYS', 5, ge=1, le=30)
    # 'text' (default) or 'json': one JSON object per line for every request and log event (services/logs.py).
    log_format: Literal['text', 'json'] = _env('LOG_FORMAT', 'text')

    @field_validator('load_demo_data', 'session_cookie_secure_setting', mode='before')
    @classmethod
    def _yes_or_no(cls, value: Any) -> Any:
        """The German words too; anything else is refused (pydantic would refuse it anyway, but 'ja' is common)."""
        if isinstance(value, str):
            word = value.strip().lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise ValueError('erlaubt: 1/0, true/false, ja/nein, on/off')
        return value

    @field_validator('smtp_security', 'log_format', mode='before')
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator('host', 'smtp_host', 'smtp_user', 'smtp_from', 'forwarded_allow_ips', mode='after')
    @classmethod
    def _stripped(cls, value: str) -> str:
        return value.strip()

    @field_validator('public_url', mode='after')
    @classmethod
    def _public_url(cls, value: str) -> str:
        """Empty, or http(s)://host[:port][/prefix] without query or fragment; kept without a trailing slash."""
        value = value.strip()
        if not value:
            return ''
        parts = urlsplit(value)
        if parts.scheme not in ('http', 'https') or not parts.hostname or parts.query or parts.fragment:
            raise ValueError('erwartet eine Adresse wie https://portal.example.de')
        return value.rstrip('/')

    @field_validator('tariff_file', mode='after')
    @classmethod
    def _tariff_file_exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError('die Datei gibt es nicht')
        return value

    @field_validator('legal_dir', mode='before')
    @classmethod
    def _empty_legal_dir(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator('legal_dir', mode='after')
    @classmethod
    def _legal_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError('das Verzeichnis gibt es nicht')
        return value

    @field_validator('invoice_issuer_iban', mode='after')
    @classmethod
    def _issuer_iban(cls, value: str) -> str:
        from schwifty import IBAN  # imported here: only this check needs it at start-up
        from schwifty.exceptions import SchwiftyException

        try:
            return IBAN(value).compact
        except SchwiftyException as error:
            raise ValueError(f'keine gültige IBAN ({error})') from None

    @field_validator('sepa_creditor_id', mode='after')
    @classmethod
    def _creditor_id(cls, value: str) -> str:
        """DEkkZZZ0… : ISO 7064 mod 97 over the national part and the country, the business code skipped."""
        value = value.replace(' ', '').upper()
        if not (8 <= len(value) <= 35 and value[:2].isalpha() and value[2:4].isdigit() and value.isalnum()):
            raise ValueError('erwartet eine Gläubiger-Identifikationsnummer wie DE98ZZZ09999999999')
        digits = ''.join(str(int(char, 36)) for char in value[7:] + value[:4])
        if int(digits) % 97 != 1:
            raise ValueError('die Prüfziffer der Gläubiger-Identifikationsnummer stimmt nicht')
        return value

    @field_validator('database_url', mode='after')
    @classmethod
    def _database_scheme(cls, value: str) -> str:
        if '://' not in value:
            raise ValueError('erwartet eine Tortoise-URL wie sqlite://data/portal.db oder postgres://…')
        return value

    @model_validator(mode='after')
    def check_storage_secret(self) -> Settings:
        """Outside local development the secret that signs the session cookie must come from the environment: a
        secret generated on one server would differ between processes and be lost with the container."""
        if self.storage_secret:
            if len(self.storage_secret) < 8:
                raise ValueError('STORAGE_SECRET: zu kurz (mindestens 8 Zeichen, besser 32 zufällige)')
            return self
        if not self.is_local_development:
            raise ValueError(
                'STORAGE_SECRET: fehlt. Außerhalb der lokalen Entwicklung (HOST nicht 127.0.0.1/localhost oder '
                'PUBLIC_URL gesetzt) muss es gesetzt sein, z. B. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))"'
            )
        object.__setattr__(self, 'storage_secret', _local_storage_secret())
        return self

    @property
    def is_local_development(self) -> bool:
        """Listening on loopback only and no public address: nobody else can reach this portal."""
        return is_loopback(self.host) and not self.public_url

    @property
    def public_origin(self) -> str:
        """scheme://host[:port] of PUBLIC_URL ('' when unset): the only origin allowed to open the websocket."""
        if not self.public_url:
            return ''
        parts = urlsplit(self.public_url)
        return f'{parts.scheme}://{parts.netloc}'.lower()

    @field_validator('second_factor_roles_setting', mode='after')
    @classmethod
    def _known_roles(cls, value: str) -> str:
        unknown = {role.strip() for role in value.split(',') if role.strip()} - ROLES
        if unknown:
            raise ValueError(f'unbekannte Rolle {", ".join(sorted(unknown))}; erlaubt: {", ".join(sorted(ROLES))}')
        return value

    @property
    def session_cookie_secure(self) -> bool:
        if self.session_cookie_secure_setting is not None:
            return self.session_cookie_secure_setting
        return self.public_url.lower().startswith('https://')

    @property
    def second_factor_roles(self) -> frozenset[str]:
        return frozenset({'staff'} | {role.strip() for role in self.second_factor_roles_setting.split(',')
                                       if role.strip()})

    @property
    def session_idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.session_idle_minutes)

    @property
    def session_absolute_timeout(self) -> timedelta:
        return timedelta(hours=self.session_absolute_hours)

    @property
    def login_base_lock(self) -> timedelta:
        return timedelta(seconds=self.login_base_lock_seconds)

    @property
    def login_max_lock(self) -> timedelta:
        return timedelta(hours=1)

    @property
    def client_window(self) -> timedelta:
        return timedelta(hours=1)

    @property
    def device_window(self) -> timedelta:
        return timedelta(minutes=15)

    @property
    def code_max_years_ahead(self) -> int:
        return 3


def _problem(error: dict[str, Any]) -> str:
    """One line per refused variable: its name, the value (never a secret's) and why."""
    location = [str(part) for part in error.get('loc', ())]
    message = str(error.get('msg', '')).removeprefix('Value error, ')
    if not location:
        return message  # a model-level rule, whose message names its variable itself
    name = location[0]
    value = '' if name in SECRET_VARIABLES else f' = {error.get("input")!r}'
    return f'{name}{value}: {message}'


def load_settings() -> Settings:
    """Read and check the environment; `InvalidSettings` lists every refused variable."""
    try:
        return Settings()
    except ValidationError as error:
        problems = '\n'.join(f'  {_problem(item)}' for item in error.errors())  # type: ignore[arg-type]
        raise InvalidSettings(f'Ungültige Einstellungen, das Portal startet nicht:\n{problems}') from None


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def reset_settings() -> None:
    """Re-read the environment (used by tests that change it)."""
    global _settings
    _settings = None
