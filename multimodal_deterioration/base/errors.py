"""The one exception type for problems a user can cause and fix."""


class PipelineError(Exception):
    """A problem with the user's input or environment, explained in one line with its fix.

    The scripts print ``str(error)`` on stderr and exit with status 2; no traceback is shown
    unless ``--debug`` is given.
    """

    exit_status = 2


def first_line(error: BaseException) -> str:
    """The first line of a library's error message, to quote inside a one-line diagnosis."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
