"""What every file import of the portal shares: a file with bad lines is refused whole, naming each of them."""


class RefusedFile(Exception):
    """A file that is refused whole; ``errors`` names the file, line and field of each problem.

    The message lists the first ``max_shown`` problems and counts the rest.
    """

    max_shown = 20

    def __init__(self, errors):
        self.errors = errors
        shown = errors[: self.max_shown]
        more = len(errors) - len(shown)
        super().__init__("\n".join(shown + ([f"… and {more} more problems."] if more else [])))
