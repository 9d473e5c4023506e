"""Errors that services raise for the API layer to turn into JSON with the right 4xx status."""


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; the message is shown to the client."""

    status_code = 400

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFoundError(ApplicationError):
    status_code = 404


class ConflictError(ApplicationError):
    status_code = 409
