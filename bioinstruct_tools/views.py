"""The chat views (`chat`, `prompt_completion`): one record's turns, and the same cut in Arrow from the
`categorized` rows.

`as_turns` defines the views one record at a time (the loading script yields it); `bioinstruct build`
cuts them from the `categorized` table with `turns_table`, columnar, without running the script again
(the tests compare the two row by row), and `read_built_folder` checks that every view row rebuilds
its `default` row exactly.
"""

import numpy as np
import pyarrow
import pyarrow.compute as pc

from bioinstruct_tools.published import CHAT_CONFIG, PROMPT_SEPARATOR, user_turn
from bioinstruct_tools.records import FIELDS


def as_turns(example: dict, view: str, category) -> dict:
    """A record as TRL's chat turns: the user asks `user_turn(instruction, input)`, the assistant answers `output`."""
    user = {"role": "user", "content": user_turn(example["instruction"], example["input"])}
    assistant = {"role": "assistant", "content": example["output"]}
    if view == CHAT_CONFIG:
        return {"messages": [user, assistant], "category": category}
    return {"prompt": [user], "completion": [assistant], "category": category}

def turns_table(categorized: pyarrow.Table, view: str) -> pyarrow.Table:
    """A chat view cut from the `categorized` table in Arrow, as `as_turns` defines it (tests
    compare the two row by row): `messages`, or `prompt` and `completion`, and the category."""
    instruction, given, output = (categorized.column(name).combine_chunks() for name in FIELDS)
    user = pc.if_else(pc.equal(given, ""), instruction,
                      pc.binary_join_element_wise(instruction, given, PROMPT_SEPARATOR))
    rows = len(user)

    def turns(*contents_by_role: tuple[str, pyarrow.Array]) -> pyarrow.Array:
        """One list of turns a row: the (role, contents) pairs in order, interleaved row by row."""
        roles = [role for role, _ in contents_by_role]
        contents = [content.cast(pyarrow.string()) for _, content in contents_by_role]
        if len(contents) > 1:  # interleaved in one take from the chunks: no concatenated copy first
            order = (np.arange(rows)[:, None] + rows * np.arange(len(roles))[None, :]).ravel()
            contents = [pyarrow.chunked_array(contents).take(pyarrow.array(order)).combine_chunks()]
        struct = pyarrow.StructArray.from_arrays(
            [pyarrow.array(roles * rows, pyarrow.string()), contents[0]], names=["role", "content"])
        return pyarrow.ListArray.from_arrays(pyarrow.array(np.arange(0, rows * len(roles) + 1, len(roles)),
                                                           pyarrow.int32()), struct)

    columns = ({"messages": turns(("user", user), ("assistant", output))} if view == CHAT_CONFIG
               else {"prompt": turns(("user", user)), "completion": turns(("assistant", output))})
    return pyarrow.table({**columns, "category": categorized.column("category")})



def same_turns(actual, expected) -> bool:
    """Whether two columns of turns hold the same roles and contents, row by row (the list type's field
    name, `item` or `element`, may differ after a parquet round trip)."""
    actual, expected = (column.combine_chunks() if isinstance(column, pyarrow.ChunkedArray) else column
                        for column in (actual, expected))
    if len(actual) != len(expected) or actual.null_count:
        return False
    if not pc.list_value_length(actual).equals(pc.list_value_length(expected)):
        return False
    flat_actual, flat_expected = pc.list_flatten(actual), pc.list_flatten(expected)
    return all(flat_actual.field(name).cast(pyarrow.string()).equals(flat_expected.field(name))
               for name in ("role", "content"))
