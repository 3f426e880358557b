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
    compare the two row by row): `messages`, or `prompt` and `completion`, and the category.

    Each text is copied once: the user's turn is joined from the instruction and the input (an empty input is
    skipped as absent, not masked by a second copy), and the turns are interleaved into one buffer.
    """
    instruction, given, output = (_one_array(categorized.column(name)) for name in FIELDS)
    user = pc.binary_join_element_wise(instruction, _absent_where_empty(given), PROMPT_SEPARATOR,
                                       null_handling="skip")
    rows = len(user)

    def turns(*contents_by_role: tuple[str, pyarrow.Array]) -> pyarrow.Array:
        """One list of turns a row: the (role, contents) pairs in order, interleaved row by row."""
        roles = [role for role, _ in contents_by_role]
        contents = interleaved([content.cast(pyarrow.string()) for _, content in contents_by_role])
        struct = pyarrow.StructArray.from_arrays(
            [pyarrow.array(roles * rows, pyarrow.string()), contents], names=["role", "content"])
        return pyarrow.ListArray.from_arrays(pyarrow.array(np.arange(0, rows * len(roles) + 1, len(roles)),
                                                           pyarrow.int32()), struct)

    columns = ({"messages": turns(("user", user), ("assistant", output))} if view == CHAT_CONFIG
               else {"prompt": turns(("user", user)), "completion": turns(("assistant", output))})
    return pyarrow.table({**columns, "category": categorized.column("category")})


_TAKE_UP_TO_BYTES = 64 << 20  # below this, Arrow's take interleaves (fast; it copies twice, which is small here)


def interleaved(columns: list[pyarrow.Array]) -> pyarrow.Array:
    """Row i of each string column in turn, [a0, b0, a1, b1, ...], as one string array.

    Small columns go through Arrow's take; large ones are copied once, row by row, into one buffer: take would
    first concatenate them (a second copy), and a 200 MB record would cost 800 MB where 200 MB do.
    """
    if len(columns) == 1:
        return columns[0]
    rows = len(columns[0])
    if sum(column.nbytes for column in columns) <= _TAKE_UP_TO_BYTES:
        order = (np.arange(rows)[:, None] + rows * np.arange(len(columns))[None, :]).ravel()
        return pyarrow.concat_arrays(columns).take(pyarrow.array(order))
    starts = [np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset:column.offset + rows + 1]
              for column in columns]
    sources = [np.frombuffer(column.buffers()[2], dtype=np.uint8) if column.buffers()[2] is not None
               else np.empty(0, dtype=np.uint8) for column in columns]
    lengths = np.stack([start[1:] - start[:-1] for start in starts], axis=1).ravel().astype(np.int64)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    large = offsets[-1] >= 2**31  # past int32 offsets: a large string column
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    position = 0
    for row in range(rows):
        for start, source in zip(starts, sources):
            first, end = int(start[row]), int(start[row + 1])
            data[position:position + end - first] = source[first:end]
            position += end - first
    return pyarrow.Array.from_buffers(pyarrow.large_string() if large else pyarrow.string(), len(lengths),
                                      [None, pyarrow.py_buffer(offsets if large else offsets.astype(np.int32)),
                                       pyarrow.py_buffer(data)])


def _one_array(column: pyarrow.ChunkedArray) -> pyarrow.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()  # one chunk: no copy


def _absent_where_empty(strings: pyarrow.Array) -> pyarrow.Array:
    """The same strings, null where empty, sharing their buffers: only a validity bitmap is new."""
    present = pc.not_equal(pc.binary_length(strings), 0)
    if strings.offset or strings.null_count:  # a slice or real nulls: the bitmap would not line up
        return pc.if_else(present, strings, pyarrow.scalar(None, strings.type))
    return pyarrow.Array.from_buffers(strings.type, len(strings), [present.buffers()[1], *strings.buffers()[1:]])


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
