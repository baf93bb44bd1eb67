"""Errors a user can cause and fix; the CLI shows them as one line and exits with code 2."""


class UserError(Exception):
    """A bad override, unknown option, missing dataset or impossible shape: the message names the fix."""


EXIT_USER_ERROR = 2
