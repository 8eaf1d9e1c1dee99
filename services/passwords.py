"""Password hashing (argon2id) and the password policy.

Hashing is slow on purpose, so it runs in a small thread pool off the event loop; argon2-cffi releases the GIL.
The pool's size bounds CPU and memory when many people log in at once.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from services.i18n import N_
from services.settings import get_settings

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name('common_passwords.txt')


@cache
def _hasher() -> PasswordHasher:
    settings = get_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=get_settings().max_parallel_hashes, thread_name_prefix='argon2')


@cache
def _dummy_hash() -> str:
    """A hash to verify against when no account matches, so both cases take the same time."""
    return _hasher().hash('no account has this password')


def reset_hasher() -> None:
    """Forget cached parameters after the settings changed."""
    _hasher.cache_clear()
    _dummy_hash.cache_clear()


async def _off_loop(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_pool(), function, *args)


async def hash_password(password: str) -> str:
    return await _off_loop(_hasher().hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    """No hash (no account) and an empty one (a Self-Service account not claimed yet) verify against the dummy: the
    same time, and never True."""
    try:
        return _hasher().verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches; with no hash (unknown account) it spends the same time and says False."""
    return await _off_loop(_verify, password_hash, password[:MAX_LENGTH])


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding='utf-8').splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith('#'))


def password_problem(password: str, *, email: str = '', name: str = '') -> str | None:
    """The German reason why a new password is not acceptable, or None."""
    if len(password) < MIN_LENGTH:
        return N_('Das Passwort muss mindestens {count} Zeichen lang sein.', count=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return N_('Das Passwort darf höchstens {count} Zeichen lang sein.', count=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common_passwords() or len(set(lowered)) <= 3:
        return N_('Dieses Passwort ist zu verbreitet und leicht zu erraten. Bitte wählen Sie ein anderes.')
    personal = [email.lower(), email.lower().split('@')[0], name.lower().replace(' ', '')]
    if any(part and len(part) >= 4 and part in lowered.replace(' ', '') for part in personal):
        return N_('Das Passwort darf Ihren Namen oder Ihre E-Mail-Adresse nicht enthalten.')
    return None


MISMATCH = N_('Die Passwörter stimmen nicht überein.')


def new_password_errors(password: str, confirmation: str, *, email: str = '', name: str = '') -> dict[str, str]:
    """A new password set through a one-time link (portal or Self-Service): the German reasons at the fields
    `password` and `confirmation`, empty when both are fine."""
    errors: dict[str, str] = {}
    if problem := password_problem(password, email=email, name=name):
        errors['password'] = problem
    if password != confirmation:
        errors['confirmation'] = MISMATCH
    return errors
