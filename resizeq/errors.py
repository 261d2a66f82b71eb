"""The one error hierarchy of resizeq; every message names the value and what was expected."""


class ResizeqError(Exception):
    """Base class of every error resizeq raises on purpose."""


class SettingsError(ResizeqError):
    """An environment variable holds a value the apps cannot use."""


class InvalidUpload(ResizeqError):
    """An upload or its parameters were rejected; `status_code` is the HTTP answer."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class ImageRejected(ResizeqError):
    """An accepted image cannot be turned into a result; the job ends `failed`."""


class BrokerUnavailable(ResizeqError):
    """The broker did not confirm a message in time, refused it, or cannot be reached."""

    def __init__(self, detail: str, reason: str = "broker_down") -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


class StorageUnavailable(ResizeqError):
    """The shared storage cannot be written, so no job can be accepted or finished."""
