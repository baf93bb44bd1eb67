"""Errors a user can cause and fix; the CLI shows them as one line and exits with code 2."""


class UserError(Exception):
    """A bad override, unknown option, missing dataset or impossible shape: the message names the fix."""


EXIT_USER_ERROR = 2


def user_error_in(err: BaseException) -> UserError | None:
    """The UserError behind `err`, if any: Hydra's instantiate wraps what a constructor raises."""
    while err is not None:
        if isinstance(err, UserError):
            return err
        err = err.__cause__
    return None
