"""What a failure means, as three kinds; every expected error of the library is one of them, and the command
line maps each kind to its exit code (1, 2, 3) without knowing the error itself.
"""


class Failed(Exception):
    """A gate failed, or there is nothing to do (no record kept, none valid): exit 1."""


class Refused(Exception):
    """An input cannot be read, an output path is refused, or arguments do not fit: exit 2. Nothing was done."""


class Unavailable(Exception):
    """The environment stopped the command: network, disk, permissions, another run on the same output: exit 3."""
