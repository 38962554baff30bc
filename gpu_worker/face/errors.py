"""The one exception type every face module and engine raises for bad input.

Codes are stable strings: the job runner copies them into the ``failed`` event and the CLI prints
them, so clients can branch on them. Add codes; never rename one.
"""

from __future__ import annotations

ERROR_CODES: dict[str, str] = {
    "unreadable_image": "the input is not a decodable RGB/RGBA/grey image",
    "no_face": "no face was found where one is required",
    "face_too_small": "the face is smaller than the documented minimum size",
    "face_turned": "the head is turned beyond the documented yaw limit",
    "identity_check_failed": "the result failed its identity check (too close or too far)",
    "bad_parameter": "a parameter is missing, of the wrong type or out of range",
    "license_restricted": "the operation needs a model whose licence the commercial-only mode refuses",
    "bad_asset": "a stored face asset cannot be read",
    "asset_outdated": "a stored face asset is of another version and must be prepared again",
}


class FaceEngineError(Exception):
    """Bad input or a refused result, with a stable ``code`` (a key of ``ERROR_CODES``) and, where one input is
    at fault, its role (``input``: "source", "target", "face_1", "parent_b", ...) so the caller can name it."""

    def __init__(self, code: str, message: str, *, input: str | None = None) -> None:  # noqa: A002
        if code not in ERROR_CODES:
            raise ValueError(f"unknown FaceEngineError code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.input = input
