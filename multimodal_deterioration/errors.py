"""The one exception type for problems a user can cause and fix."""


class PipelineError(Exception):
    """A problem with the user's input or environment, explained in one line with its fix.

    The scripts print ``str(error)`` on stderr and exit with status 2; no traceback is shown
    unless ``--debug`` is given.
    """

    exit_status = 2
