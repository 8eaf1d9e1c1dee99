"""Settings fail closed (issue 11, deliverable 9): a wrong value stops the start with a message naming the variable,
STORAGE_SECRET is required outside local development, and an unknown SMTP_SECURITY never sends in plain text."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import mail_worker
from services.settings import InvalidSettings, Settings, get_settings, reset_settings


def settings_with(monkeypatch: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    return get_settings()


@pytest.mark.parametrize(
    ('variable', 'value'),
    [
        ('PORT', 'abc'), ('PORT', '70000'), ('CUTOFF_DAY', '40'), ('CUTOFF_DAY', '0'), ('SMTP_SECURITY', 'tls'),
        ('SMTP_SECURITY', ''), ('DEMO_DATA', 'vielleicht'), ('SESSION_IDLE_MINUTES', '-5'),
        ('MAX_PARALLEL_HASHES', '0'), ('PUBLIC_URL', 'portal.example.de'), ('PUBLIC_URL', 'javascript:alert(1)'),
        ('TARIFF_FILE', '/nicht/vorhanden.toml'), ('SMTP_PORT', '25x'), ('ARGON2_TIME_COST', '1.5'),
        # WCAG 2.2.1: at least 20 s to keep one's input; the kiosk wipes a sent Antrag's reference within 30 s.
        ('KIOSK_COUNTDOWN_SECONDS', '19'), ('KIOSK_DONE_SECONDS', '31'), ('LEGAL_DIR', '/nicht/vorhanden'),
    ],
)
def test_an_invalid_value_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    with pytest.raises(InvalidSettings) as refused:
        settings_with(monkeypatch, **{variable: value})
    assert f'{variable} = {value!r}' in str(refused.value)


def test_every_refused_variable_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSettings) as refused:
        settings_with(monkeypatch, PORT='abc', CUTOFF_DAY='40')
    assert 'PORT' in str(refused.value)
    assert 'CUTOFF_DAY' in str(refused.value)


def test_defaults_and_names_stay_as_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ('PORT', 'HOST', 'PUBLIC_URL', 'CUTOFF_DAY', 'SMTP_SECURITY', 'SMTP_PORT', 'SESSION_IDLE_MINUTES'):
        monkeypatch.delenv(name, raising=False)
    settings = settings_with(monkeypatch)
    assert (settings.host, settings.port, settings.public_url, settings.cutoff_day) == ('127.0.0.1', 8080, '', 10)
    assert (settings.smtp_security, settings.smtp_port) == ('starttls', 587)
    assert settings.session_idle_timeout.total_seconds() == 30 * 60
    assert settings.login_base_lock.total_seconds() == 60
    assert settings.code_max_years_ahead == 3


def test_values_are_read_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_with(
        monkeypatch, PORT='9000', DEMO_DATA='nein', SMTP_SECURITY=' SSL ', PUBLIC_URL='https://Portal.example.de/',
        SESSION_ABSOLUTE_HOURS='8',
    )
    assert (settings.port, settings.load_demo_data, settings.smtp_security) == (9000, False, 'ssl')
    assert settings.public_url == 'https://Portal.example.de'
    assert settings.public_origin == 'https://portal.example.de'
    assert settings.session_absolute_timeout.total_seconds() == 8 * 3600


def test_secrets_are_not_printed_in_the_message(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidSettings) as refused:
        settings_with(monkeypatch, STORAGE_SECRET='x7q2')
    assert 'STORAGE_SECRET' in str(refused.value)
    assert 'x7q2' not in str(refused.value)
    assert 'kurz' not in repr(settings_with(monkeypatch, STORAGE_SECRET='lang-genug-und-geheim'))


@pytest.mark.parametrize(
    'variables',
    [{'HOST': '0.0.0.0'}, {'HOST': '192.168.1.20'}, {'HOST': '127.0.0.1', 'PUBLIC_URL': 'https://portal.example.de'}],
)
def test_storage_secret_is_required_outside_local_development(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    monkeypatch.delenv('STORAGE_SECRET', raising=False)
    with pytest.raises(InvalidSettings, match='STORAGE_SECRET: fehlt'):
        settings_with(monkeypatch, **variables)


@pytest.mark.parametrize('host', ['127.0.0.1', 'localhost', '::1'])
def test_local_development_generates_the_secret_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str
) -> None:
    monkeypatch.setattr('services.settings.DATA_DIR', tmp_path)
    monkeypatch.delenv('STORAGE_SECRET', raising=False)
    monkeypatch.delenv('PUBLIC_URL', raising=False)
    first = settings_with(monkeypatch, HOST=host)
    assert first.is_local_development
    assert len(first.storage_secret) >= 32
    assert (tmp_path / '.storage_secret').stat().st_mode & 0o777 == 0o600
    assert settings_with(monkeypatch, HOST=host).storage_secret == first.storage_secret


def smtp_settings(security: str) -> Settings:
    """Settings as if the environment had passed a value the validation would refuse (model_construct skips it)."""
    return Settings.model_construct(
        smtp_host='mail.example.de', smtp_port=587, smtp_user='portal', smtp_password='geheim',
        smtp_security=security,  # type: ignore[arg-type]  # on purpose: a value outside the Literal
        smtp_timeout_seconds=5, smtp_from='portal@example.de',
    )


def test_an_unknown_smtp_security_never_makes_a_client() -> None:
    with pytest.raises(mail_worker.UnsafeSmtpSettings):
        mail_worker.smtp_client(smtp_settings('tls'))


@pytest.mark.parametrize(('security', 'implicit_tls', 'starttls'),
                         [('starttls', False, True), ('ssl', True, False), ('none', False, False)])
def test_tls_is_required_unless_none_is_asked(security: str, implicit_tls: bool, starttls: bool) -> None:
    """starttls means required (not aiosmtplib's default 'if offered'): a server without it gets nothing."""
    client = mail_worker.smtp_client(smtp_settings(security))
    assert (client.use_tls, client._start_tls_on_connect) == (implicit_tls, starttls)
