"""The worst case of every function that applies a regex, on 100 KB strings shaped to make regexes backtrack.

    python bench/regex_worst_case.py

The same strings feed tests/test_properties.py under a hang guard; this prints how long each takes.
Before the regexes were made linear, `is_empty_input_placeholder("None" + " " * 4000 + "x")` alone
took 77 s on this machine (issue 7).
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bioinstruct_tools import checks  # noqa: E402
from bioinstruct_tools.categories import categorize  # noqa: E402
from bioinstruct_tools.records import is_empty_input_placeholder  # noqa: E402
from bioinstruct_tools.text import normalized_text, rouge_tokens  # noqa: E402

# Strings of 100 KB shaped to trip backtracking: long runs of what optional parts around `\s*`, `\w+`
# or a repeated lead-in can each match.
N = 100_000
ADVERSARIAL = {
    "spaces": " " * N,
    "placeholder_then_spaces": "None" + " " * N + "x",
    "request_then_spaces": "Give" + " " * N + "x",
    "bracket_then_spaces": "<" + " " * N + "none",
    "one_long_word": "a" * N,
    "hyphenated_run": "a-" * (N // 2),
    "stacked_please": "please " * (N // 7) + "list x",
    "lead_in_commas": "Given the note" + ", " * (N // 2),
    "newlines": "\n" * N + "x",
    "mixed_whitespace": " \n\t" * (N // 3),
    "the_words": "the " * (N // 4),
    "source_phrases": "from the " * (N // 9) + "note",
    "year_old": "a" * N + "-year-old",
    "punctuation": ".,;:!?" * (N // 6),
    "questions": "What? " * (N // 6),
}
REGEX_USERS = {
    "categorize(instruction)": lambda text: categorize(text),
    "categorize(input)": lambda text: categorize("List the drugs in the note.", text),
    "is_empty_input_placeholder": is_empty_input_placeholder,
    "is_placeholder_output": checks.is_placeholder_output,
    "self_instruct_filter_findings": checks.self_instruct_filter_findings,
    "normalized_text": normalized_text,
    "rouge_tokens": rouge_tokens,
}


def main() -> None:
    timings = []
    for shape, text in ADVERSARIAL.items():
        for name, function in REGEX_USERS.items():
            start = time.perf_counter()
            function(text)
            timings.append((time.perf_counter() - start, name, shape))
    timings.sort(reverse=True)
    print(f"{len(ADVERSARIAL)} adversarial strings of {N:,} characters x {len(REGEX_USERS)} functions")
    for seconds, name, shape in timings[:5]:
        print(f"  {seconds * 1000:8.1f} ms  {name:<30} {shape}")
    print(f"worst case: {timings[0][0] * 1000:.1f} ms ({timings[0][1]} on {timings[0][2]})")


if __name__ == "__main__":
    main()
