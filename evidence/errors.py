import errno

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def field_error(field: str, message: str, code: str) -> ValidationError:
    """A validation error on one field that keeps its machine-readable code.

    ``ValidationError({"field": ["message"]}, code=...)`` drops the code; API clients
    branch on it, so every service raises through here.
    """
    return ValidationError({field: ValidationError(message, code=code)})


class StorageUnavailable(Exception):
    """The evidence store cannot take files: its disk is full, read-only or failing.

    Nothing was stored. It is the store's state, not the request's fault, so callers
    answer 507 (full) or 503 (failing) rather than a field error or a crash.
    """

    FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
    FAILING = frozenset({errno.EROFS, errno.EIO})
    ERRNOS = FULL | FAILING

    def __init__(self, error: OSError) -> None:
        self.full = error.errno in self.FULL
        message = (
            _("The evidence store is full; nothing was stored. Ask your administrator to free space, then try again.")
            if self.full
            else _("The evidence store is not accepting files right now; nothing was stored. Try again later.")
        )
        super().__init__(str(message))
