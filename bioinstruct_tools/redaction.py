"""Hub tokens never reach the terminal: `redact` masks them in every message the command prints.

Apart from `hub.py` so that every command's error path can use it without loading `datasets`.
"""

import os
import re

_TOKEN_SHAPE = re.compile(r"\bhf_[A-Za-z0-9]{8,}")


def redact_tokens(text: str) -> str:
    """`text` with every Hub token masked: the one huggingface_hub resolves, the environment's, any `hf_...`."""
    tokens = {os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")}
    try:
        from huggingface_hub import get_token  # only when a message is printed: 60 ms of imports off every run

        tokens.add(get_token())
    except Exception:  # an unreadable token file must not hide the message being printed
        pass
    for token in sorted(filter(None, tokens), key=len, reverse=True):
        text = text.replace(token, "***")
    return _TOKEN_SHAPE.sub("hf_***", text)
