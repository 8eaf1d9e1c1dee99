"""Exceptions that services raise; their messages are German and shown to the user as they are."""


class ServiceError(Exception):
    """A rule refused the action; `str(error)` is the German message for the user."""


class ValidationError(ServiceError):
    """Input broke one or more rules; `errors` maps a field name to its German message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__(' '.join(errors.values()))


class PermissionDenied(ServiceError):
    def __init__(self, message: str = 'Dazu fehlt Ihnen die Berechtigung.') -> None:
        super().__init__(message)


class NotFound(ServiceError):
    def __init__(self, message: str = 'Der Datensatz wurde nicht gefunden.') -> None:
        super().__init__(message)


class Conflict(ServiceError):
    """Someone else changed the record first."""
