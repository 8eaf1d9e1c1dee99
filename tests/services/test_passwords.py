import os

import pytest

from services import passwords
from services.settings import Settings


def test_default_argon2_parameters_meet_owasp_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ('ARGON2_TIME_COST', 'ARGON2_MEMORY_KIB', 'ARGON2_PARALLELISM'):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.argon2_memory_kib >= 19 * 1024
    assert settings.argon2_time_cost >= 2
    assert settings.argon2_parallelism >= 1


async def test_hash_is_argon2id_and_verifies() -> None:
    hashed = await passwords.hash_password('Sommerzeit-im-Bergpark')
    assert hashed.startswith('$argon2id$')
    assert await passwords.verify_password(hashed, 'Sommerzeit-im-Bergpark')
    assert not await passwords.verify_password(hashed, 'Sommerzeit-im-BergparK')


async def test_verify_without_hash_is_false() -> None:
    assert not await passwords.verify_password(None, 'no account has this password')


async def test_rehash_needed_after_parameters_change(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = await passwords.hash_password('Sommerzeit-im-Bergpark')
    assert not passwords.needs_rehash(hashed)
    monkeypatch.setenv('ARGON2_TIME_COST', str(int(os.environ['ARGON2_TIME_COST']) + 1))
    from services.settings import reset_settings

    reset_settings()
    passwords.reset_hasher()
    assert passwords.needs_rehash(hashed)


@pytest.mark.parametrize(
    ('candidate', 'fragment'),
    [
        ('kurz', 'mindestens 12 Zeichen'),
        ('x' * 300, 'höchstens 256'),
        ('Passwort1234', 'zu verbreitet'),
        ('aaaaaaaaaaaaaa', 'zu verbreitet'),
        ('anna.dietrich-2026', 'Namen oder Ihre E-Mail-Adresse'),
    ],
)
def test_password_policy_refuses(candidate: str, fragment: str) -> None:
    problem = passwords.password_problem(candidate, email='anna.dietrich@example.de', name='Anna Dietrich')
    assert problem is not None
    assert fragment in problem


def test_password_policy_accepts_a_good_passphrase() -> None:
    assert passwords.password_problem('Fulda-Ufer-im-Herbst', email='anna@example.de', name='Anna Dietrich') is None
