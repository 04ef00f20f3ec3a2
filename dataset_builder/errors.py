"""The project's one exception family.

Every error names the item and the field at fault and says what would be accepted, so a
user can fix the input without reading the code. All of them are ``ValueError``s, so
code that already guards against bad values keeps working.
"""

from __future__ import annotations


class MedQDegError(ValueError):
    """Base class of every error raised on purpose by the toolkit."""


class InvalidInputError(MedQDegError):
    """An input value (an image, a level, a modality, a record...) is not acceptable.

    The message has the form ``"<item>: field `<field>` <problem>; expected <accepted>"``.
    """

    def __init__(self, field: str, problem: str, expected: str, *, item: str | None = None):
        self.item = item
        self.field = field
        self.problem = problem
        self.expected = expected
        where = f"{item}: " if item else ""
        super().__init__(f"{where}field `{field}` {problem}; expected {expected}")


class ModalityMismatchError(MedQDegError):
    """A degradation was asked for on a modality it does not apply to."""
