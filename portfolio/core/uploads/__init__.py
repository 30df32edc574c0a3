"""The single upload-validation path for evidence files.

The content type is decided from the file's first bytes only: a learner's file name and the
browser's claimed type prove nothing and appear only in messages. Files are streamed through
``StreamReader``, which hashes and counts them on the way to storage; images are decoded with
Pillow restricted to the sniffed format, under an explicit pixel limit, and their derivatives
carry no metadata from the original.

The parts: :mod:`.sniffing` names the type from the head, :mod:`.streaming` hashes, counts and
limits the bytes on their way to storage, and :mod:`.images` decodes images and makes their
derivatives. This module holds what they share: the refusal and how sizes and names read in it.
"""

from __future__ import annotations

from portfolio.core.errors import DomainError


class UploadRejected(DomainError):
    """An upload refused, with a message the learner can act on."""


_SIZE_UNITS = ("KB", "MB", "GB", "TB")


def human_size(n: int) -> str:
    """``2 GB``, ``1.5 MB``: binary multiples, as file managers on learners' devices show them."""
    exponent = min((n.bit_length() - 1) // 10, len(_SIZE_UNITS)) if n > 0 else 0
    if exponent == 0:
        return "1 byte" if n == 1 else f"{n} bytes"
    value = n / 1024 ** exponent
    text = f"{value:.1f}".removesuffix(".0") if value < 10 else f"{value:.0f}"
    return f"{text} {_SIZE_UNITS[exponent - 1]}"


def display_name(filename: str) -> str:
    """How messages name an upload: its file name, or "The file" when it has none."""
    return filename or "The file"
