"""The one exception type that reaches a user: each message is one line naming the file and what to do."""


class PulseError(Exception):
    """A problem with the user's input or project folder.

    `messages` holds one line per problem; the CLI prints each on its own line and exits
    with code 2 (a traceback only with `--debug`).
    """

    def __init__(self, messages: str | list[str]):
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        super().__init__("\n".join(self.messages))
