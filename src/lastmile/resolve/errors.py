"""The resolver's one user-facing error."""


class ResolveError(ValueError):
    """Resolution could not run or a request names something that does not exist; the
    message is meant for the user (a ValueError, so ``lastmile.cli.friendly`` shows it as
    one line)."""
