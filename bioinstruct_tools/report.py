"""`bioinstruct report`: the dataset at a glance, as figures (PNG and SVG), `report.md` and `report.json`.

Six figures, each from numbers that `report.json` holds too:

1. `categories`: each category's share of the records, beside the paper's (GPT-4's labels);
2. `lengths`: instruction, input and output lengths in rouge tokens per category, as box plots;
3. `verbs`: the 20 most frequent task verbs and the 4 most frequent direct objects of each, as stacked
   bars (`task_verbs.verb_and_object`: the root verb of an imperative and the head noun of its object;
   question-form instructions are counted apart, in the title, never as verbs); equal counts are ranked
   alphabetically, and the figure says when every object it shows was seen once;
4. `inputs`: the share of records with an input, per category;
5. `near_duplicates`: ROUGE-L F of every pair above 0.5, as a histogram, with Self-Instruct's 0.7 line
   and the number its greedy filter drops;
6. `checks`: the validation checks' counts per reason code.

The numbers come from the same validation report that `bioinstruct validate --json` prints, so the two
agree. Figures are drawn with matplotlib's Agg backend (no display) and written without dates or
random ids, so two reports of the same input are byte-identical.
"""

import functools
import json
import os
import tempfile
import textwrap
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

if "MPLCONFIGDIR" not in os.environ and not os.access(os.path.expanduser("~"), os.W_OK):
    # No writable home (a locked-down container): matplotlib would warn and make this folder itself.
    os.environ["MPLCONFIGDIR"] = os.path.join(tempfile.gettempdir(), f"bioinstruct-matplotlib-{os.getuid()}")

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.legend_handler import HandlerTuple  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, StrMethodFormatter  # noqa: E402

from bioinstruct_tools import __version__, checks, paths, workers
from bioinstruct_tools.categories import CATEGORIES, PAPER_SHARES
from bioinstruct_tools.errors import Failed
from bioinstruct_tools.published import FIGURE_HALVES, FIGURE_NAMES, HISTOGRAM_FROM, REPORT_MARKER
from bioinstruct_tools.published import FIGURE_TITLES as TITLES
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap
from bioinstruct_tools.task_verbs import QUESTION, verb_and_object
from bioinstruct_tools.records import FIELDS, has_real_input
from bioinstruct_tools.text import markdown_literal, plural, rouge_token_count

WIDTH_IN, HEIGHT_IN, DPI = 9.0, 5.0, 100  # every figure is 900 x 500 pixels
TOP_VERBS, TOP_OBJECTS = 20, 4
COLORS = {"extraction": "#4C72B0", "generation": "#55A868", "qa": "#C44E52", "other": "#8172B2"}
NO_RECORDS = "no records"  # what an empty category shows in place of a zero
_STYLE = {"font.size": 11, "axes.titlesize": 13, "axes.labelsize": 11, "svg.hashsalt": "bioinstruct",
          "svg.fonttype": "path", "figure.dpi": DPI}
THOUSANDS = StrMethodFormatter("{x:,.0f}")


def _compact(value: float, _position=None) -> str:
    """Axis labels that stay short at any scale: 950, 12K, 4.8M."""
    for bound, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= bound:
            return f"{value / bound:.3g}{suffix}"
    return f"{value:.3g}"


COMPACT = FuncFormatter(_compact)


@dataclass(frozen=True)
class ReportOptions:
    source: str
    out: str
    overwrite: bool = False  # replace a folder an earlier report wrote (and nothing else)
    field_map: FieldMap = NO_FIELD_MAP


class NoValidRecord(Failed):
    """The source holds no schema-valid record: there is nothing to draw."""


@dataclass
class WrittenReport:
    out: Path
    numbers: dict


def report_file(options: ReportOptions, hooks: Optional[checks.Hooks] = None) -> WrittenReport:
    """Validate the source and write its report folder: staged, marked, and moved into place only when complete
    (never over an input, nor over a folder this command did not write)."""
    out = paths.check_output_dir(options.out, inputs=[options.source])
    written: dict = {}
    with paths.staged_folder(out, options.overwrite, REPORT_MARKER, "bioinstruct report", __version__,
                             marker_fields=written) as staging:
        validation = checks.validate_file(options.source, checks.ValidationOptions(histogram_from=HISTOGRAM_FROM),
                                          hooks, field_map=options.field_map)
        if not validation.valid:
            raise NoValidRecord(f"{options.source}: no schema-valid record to report on (run `bioinstruct validate "
                                f"{options.source}`)")
        report = collect(validation)
        write_report(report, staging)
        written["files"] = {path.relative_to(staging).as_posix(): None for path in sorted(staging.rglob("*"))
                            if path.is_file()}
    return WrittenReport(out=out, numbers=report.numbers)


@dataclass
class ReportNumbers:
    numbers: dict
    lengths: dict[str, dict[str, list[int]]]  # field -> category -> token counts (for the box plots)


def collect(validation: checks.Validation) -> ReportNumbers:
    """Every number of the report, from a validation run with `histogram_from=HISTOGRAM_FROM` and its records.

    Nothing is computed twice: the categories and the near-duplicate histogram are validation's own.
    """
    valid = [record.data for record in validation.valid]
    categories = validation.category_labels()
    category_check = validation[checks.CATEGORIES_CHECK]
    lengths = {name: {category: [] for category in CATEGORIES} for name in FIELDS}
    with_input = Counter()
    verbs, objects, questions = Counter(), {}, 0
    for record, category in zip(valid, categories):
        for name in FIELDS:
            lengths[name][category].append(rouge_token_count(record[name]))
        with_input[category] += has_real_input(record["input"])
        verb, noun = verb_and_object(record["instruction"])
        if verb == QUESTION:
            questions += 1  # counted apart: a question word is not a task verb
        elif verb is not None:
            verbs[verb] += 1
            objects.setdefault(verb, Counter())[noun or "(no object)"] += 1
    near = validation[checks.NEAR_DUPLICATES].findings
    histogram = near.histogram
    if histogram is None:
        raise ValueError("the validation did not histogram near-duplicate scores (ValidationOptions.histogram_from)")
    bins = histogram[int(HISTOGRAM_FROM * 100):].tolist()
    shares = category_check.findings
    rows = shares.rows
    numbers = {
        "file": validation.path,
        "rows": validation.rows,
        "categories": {category: {"rows": rows[category], "share": shares.shares[category],
                                  "paper_share": PAPER_SHARES[category]}
                       for category in CATEGORIES},
        "lengths": {name: {category: _summary(values) for category, values in by_category.items()}
                    for name, by_category in lengths.items()},
        "verbs": [{"verb": verb, "records": count,
                   "objects": [{"object": noun, "records": n} for noun, n in _ranked(objects[verb])[:TOP_OBJECTS]]}
                  for verb, count in _ranked(verbs)[:TOP_VERBS]],
        "questions": questions,  # instructions asking a question: no task verb, shown apart
        "inputs": {category: {"with_input": with_input[category],
                              "share": with_input[category] / rows[category] if rows[category] else 0.0}
                   for category in CATEGORIES},
        "near_duplicates": {"threshold": near.threshold, "pairs": near.pairs,
                            "greedy_dropped": len(near.greedy_dropped),
                            "histogram": {"from": HISTOGRAM_FROM, "bin_width": 0.01, "pairs_per_bin": bins,
                                          "pairs_above_from": int(sum(bins))}},
        "checks": {check.name: check.counts for check in validation.checks if check.counts},
    }
    return ReportNumbers(numbers=numbers, lengths=lengths)


def _summary(values: list[int]) -> dict:
    if not values:
        return {"records": 0}
    quartiles = np.percentile(values, [0, 25, 50, 75, 100]).tolist()
    return {"records": len(values), "min": quartiles[0], "q1": quartiles[1], "median": quartiles[2],
            "q3": quartiles[3], "max": quartiles[4], "mean": round(float(np.mean(values)), 2)}


# ---------------------------------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------------------------------


def _figure() -> tuple[Figure, "matplotlib.axes.Axes"]:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    return figure, figure.add_subplot()


def _label_bar(axes, bar, label: str | None) -> None:
    """Write a bar's figure above it; a category with no record says so in grey instead of a zero."""
    axes.annotate(label or NO_RECORDS, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                  va="bottom", fontsize=10 if label else 9, color="black" if label else "#777777", xytext=(0, 2),
                  textcoords="offset points")


def draw_categories(report: ReportNumbers) -> Figure:
    figure, axes = _figure()
    categories = list(CATEGORIES)
    data = report.numbers["categories"]
    positions = np.arange(len(categories))
    measured = [100 * data[c]["share"] for c in categories]
    paper = [100 * data[c]["paper_share"] for c in categories]
    bars = axes.bar(positions - 0.2, measured, 0.4, color=[COLORS[c] for c in categories])
    paper_bars = axes.bar(positions + 0.2, paper, 0.4, color="#BBBBBB")
    for bar, category in zip(bars, categories):
        rows = data[category]["rows"]
        _label_bar(axes, bar, f"{rows:,}" if rows else None)
    axes.set_xticks(positions, categories)
    axes.set_ylabel("share of records (%)")
    axes.set_ylim(0, max(measured + paper) * 1.18 + 1)
    axes.set_title(f"Category shares, {plural(report.numbers['rows'], 'record')} (bar labels: records)")
    # One swatch of every category colour for this data's bars, beside the paper's grey.
    swatches = tuple(Patch(color=COLORS[c]) for c in categories)
    axes.legend([swatches, paper_bars[0]], ["this data (rules + word model)", "paper (GPT-4 labels)"],
                handler_map={tuple: HandlerTuple(ndivide=None, pad=0)}, frameon=False)
    return figure


def draw_lengths(report: ReportNumbers) -> Figure:
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
    panels = figure.subplots(1, 3, sharey=False)
    categories = list(CATEGORIES)
    for axes, name in zip(panels, FIELDS):
        # Inputs are drawn for the records that have one: an empty input has no length, and boxes flat at 0
        # would read as "length 0". A category with nothing to draw gets no box and says "no records".
        drawn = {c: [n for n in report.lengths[name][c] if n or name != "input"] for c in categories}
        present = [position for position, c in enumerate(categories, start=1) if drawn[c]]
        if present:
            boxes = axes.boxplot([drawn[categories[p - 1]] for p in present], positions=present,
                                 patch_artist=True, showfliers=False, widths=0.6)
            for patch, position in zip(boxes["boxes"], present):
                patch.set_facecolor(COLORS[categories[position - 1]])
                patch.set_alpha(0.75)
        else:
            axes.set_ylim(0, 1)
            axes.set_yticks([])
        for position, category in enumerate(categories, start=1):
            if position not in present:
                axes.text(position, 0.5, NO_RECORDS, transform=axes.get_xaxis_transform(), ha="center", va="center",
                          fontsize=9, color="#777777", rotation=90)
        axes.set_xlim(0.4, len(categories) + 0.6)
        axes.set_xticks(range(1, len(categories) + 1), ["extr.", "gen.", "qa", "other"])
        axes.set_title("input (records that have one)" if name == "input" else name)
        axes.set_ylabel("length (rouge tokens)" if name == "instruction" else "")
    figure.suptitle("Lengths per category (boxes: quartiles; whiskers: 1.5 IQR; outliers not drawn)")
    return figure


MISSING_GLYPH = "?"  # drawn in place of a character the figure's font cannot draw (CJK, Hangul, emoji)


@functools.cache
def _font_characters() -> frozenset[int]:
    """The code points matplotlib's default font can draw."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap())


def drawable(text: str) -> str:
    """`text` as the figure's font can draw it: each character it lacks becomes MISSING_GLYPH, as the figure says."""
    if text.isascii():
        return text
    characters = _font_characters()
    return "".join(character if ord(character) in characters or character.isspace() else MISSING_GLYPH
                   for character in text)


def _ranked(counts: Counter) -> list[tuple[str, int]]:
    """Most frequent first; equal counts in alphabetical order, so that ties are never decided by reading order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def empty_figures(report: "ReportNumbers") -> dict[str, str]:
    """The figures with nothing to show, each with the one line a card says instead: {name: line}."""
    empty = {}
    if not report.numbers["checks"]:
        empty["checks"] = "No validation check found anything to report."
    if not report.numbers["verbs"]:
        empty["verbs"] = "No instruction has a task verb (every one is a question or a message)."
    return empty


def draw_verbs(report: ReportNumbers) -> Figure:
    figure, axes = _figure()
    verbs = report.numbers["verbs"][::-1]  # the most frequent on top
    replaced = False
    shades = ["#2F4B7C", "#4C72B0", "#7FA3D1", "#B5CDE8"]
    widest = max((verb["records"] for verb in verbs), default=1)
    # How many records one character of an 8-point label spans, the axes being about 80% of the figure wide
    # and the x axis reaching 1.45 times the widest bar: a name is written inside its segment only if it fits.
    records_per_character = 1.45 * widest * 5.8 / (0.8 * WIDTH_IN * DPI)
    reach = widest * 1.05
    for row, verb in enumerate(verbs):
        left, untold = 0, []
        for rank, item in enumerate(verb["objects"]):
            axes.barh(row, item["records"], left=left, color=shades[rank], height=0.75)
            name = drawable(item["object"])
            replaced |= name != item["object"]
            if item["records"] >= (len(name) + 1) * records_per_character:
                axes.text(left + item["records"] / 2, row, name, ha="center", va="center",
                          fontsize=8, color="white" if rank < 2 else "black")
            else:  # too narrow to hold its name: named after the bar, in segment order
                untold.append(name)
            left += item["records"]
        rest = verb["records"] - left
        if rest > 0:
            axes.barh(row, rest, left=left, color="#DDDDDD", height=0.75)
        if untold:
            axes.text(verb["records"], row, "  " + ", ".join(untold), va="center", fontsize=7, color="#444444")
            reach = max(reach, verb["records"] + (len(", ".join(untold)) + 2) * records_per_character)
    axes.set_xlim(0, min(reach, widest * 1.45))  # ends near the longest bar, or the longest name after one
    labels = [drawable(verb["verb"]) for verb in verbs]
    replaced |= labels != [verb["verb"] for verb in verbs]
    axes.set_yticks(range(len(verbs)), labels, fontsize=9)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(THOUSANDS)
    once = all(item["records"] == 1 for verb in verbs for item in verb["objects"])
    # wrapped to the figure's width: with the note on single counts, one line ran off both edges
    axes.set_xlabel(textwrap.fill(
        "records (segments: the verb's 4 most frequent objects, then the rest in grey; "
        "names too long for their segment follow the bar, in segment order"
        + ("; every object shown was seen once: equal counts are in alphabetical order" if once else "")
        + (f"; '{MISSING_GLYPH}': a character the font cannot draw)" if replaced else ")"), width=100))
    questions = report.numbers["questions"]
    axes.set_title((f"Top {len(verbs)} task verbs and their objects" if len(verbs) > 1 else "The task verb and its objects")
                   + (f" ({plural(questions, 'question-form instruction')} not counted)" if questions else ""))
    return figure


def draw_inputs(report: ReportNumbers) -> Figure:
    figure, axes = _figure()
    categories = list(CATEGORIES)
    data = report.numbers["inputs"]
    shares = [100 * data[c]["share"] for c in categories]
    bars = axes.bar(categories, shares, color=[COLORS[c] for c in categories], width=0.6)
    for bar, category in zip(bars, categories):
        rows = report.numbers["categories"][category]["rows"]
        _label_bar(axes, bar, f"{data[category]['with_input']:,} of {rows:,}" if rows else None)
    axes.set_ylim(0, 110)
    axes.set_ylabel("records with a non-empty input (%)")
    axes.set_title("Records with an input, per category")
    return figure


def draw_near_duplicates(report: ReportNumbers) -> Figure:
    figure, axes = _figure()
    near = report.numbers["near_duplicates"]
    counts = near["histogram"]["pairs_per_bin"]
    edges = HISTOGRAM_FROM + 0.01 * np.arange(len(counts))
    axes.bar(edges, counts, width=0.01, align="edge", color="#4C72B0", edgecolor="white", linewidth=0.3)
    axes.axvline(near["threshold"], color="#C44E52", linestyle="--",
                 label=f"Self-Instruct's threshold {near['threshold']}: {plural(near['pairs'], 'pair')} above, "
                       f"greedy filter drops {plural(near['greedy_dropped'], 'record')}")
    axes.set_xlim(HISTOGRAM_FROM, 1.02)  # the last bin, [1.00, 1.01): identical instructions, drawn whole
    axes.set_xlabel("ROUGE-L F of a pair of instructions")
    axes.set_ylabel("pairs per 0.01 bin")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_formatter(THOUSANDS)
    axes.set_ylim(0, max(counts, default=0) * 1.1 + 1)
    axes.set_title(f"Near-duplicate instructions: {plural(near['histogram']['pairs_above_from'], 'pair')} above "
                   f"{HISTOGRAM_FROM}")
    axes.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.16))  # below the axes: it crosses nothing
    return figure


def draw_checks(report: ReportNumbers) -> Figure:
    figure, axes = _figure()
    rows = [(f"{check}: {reason}", count) for check, counts in report.numbers["checks"].items()
            for reason, count in counts.items()][::-1]
    if rows:
        axes.barh(range(len(rows)), [count for _, count in rows], color="#8172B2", height=0.6)
        for row, (_, count) in enumerate(rows):
            axes.annotate(f"{count:,}", (count, row), va="center", fontsize=9, xytext=(3, 0),
                          textcoords="offset points")
        axes.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=9)
        counts = [count for _, count in rows]
        if max(counts) > 100 * min(counts):  # a 5,451-record bar must not vanish beside a 14.8 M-pair one
            axes.set_xscale("log")
            axes.set_xlim(0.8, max(counts) * 15)  # a decade past the longest bar: room for its count
            axes.xaxis.set_major_locator(LogLocator(base=10, numticks=8))
            axes.set_xlabel("records (pairs, for near_duplicate), log scale")
        else:
            axes.set_xlim(0, max(counts) * 1.2)
            axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
            axes.set_xlabel("records (pairs, for near_duplicate)")
        axes.xaxis.set_major_formatter(COMPACT)
    else:
        axes.text(0.5, 0.5, "no check found anything to report", ha="center", va="center",
                  transform=axes.transAxes)
        axes.set_axis_off()
    axes.set_title("What the validation checks found, per reason code")
    return figure


DRAW = {"categories": draw_categories, "lengths": draw_lengths, "verbs": draw_verbs, "inputs": draw_inputs,
        "near_duplicates": draw_near_duplicates, "checks": draw_checks}


def write_figures(report: ReportNumbers, folder: Path, formats=("png", "svg")) -> list[Path]:
    """Every figure in `folder`, byte-identical for the same numbers; on two cores or more, two forked workers draw
    a half each (drawing is most of a small report's time)."""
    folder.mkdir(parents=True, exist_ok=True)
    with workers.ForkedMap(functools.partial(draw, report, folder, formats=formats), FIGURE_HALVES,
                           parallel_from=2, chunk=1) as drawing:
        drawn = [path for half in drawing.results() for path in half]
    return sorted(drawn, key=lambda path: (FIGURE_NAMES.index(path.stem), formats.index(path.suffix[1:])))


def draw(report: ReportNumbers, folder: Path, names: tuple, formats=("png", "svg")) -> list[Path]:
    """The figures `names` in `folder`, in each of `formats`."""
    written = []
    # Matplotlib's own warnings (a glyph missing, a tight layout) are not the user's to read: the figures say
    # what they replaced.
    with matplotlib.rc_context(_STYLE), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            figure = DRAW[name](report)
            for extension in formats:
                path = folder / f"{name}.{extension}"
                metadata = {"Software": None} if extension == "png" else {"Date": None, "Creator": None}
                figure.savefig(path, format=extension, metadata=metadata)
                # The first format's constrained layout holds for the others: laying out again costs a third of
                # each later save and only moves the axes by a point or two.
                figure.set_layout_engine("none")
                written.append(path)
    return written


def markdown(report: ReportNumbers, figure_folder: str) -> str:
    """report.md: each figure and the numbers behind it."""
    numbers = report.numbers
    lines = [f"# BioInstruct report: {markdown_literal(numbers['file'])}", "", f"{plural(numbers['rows'], 'record')}.", ""]
    lines += [f"## {TITLES['categories']}", "", f"![{TITLES['categories']}]({figure_folder}/categories.png)", "",
              "| category | records | share | paper's share |", "|---|---:|---:|---:|"]
    lines += [f"| {c} | {v['rows']:,} | {v['share']:.1%} | {v['paper_share']:.1%} |"
              for c, v in numbers["categories"].items()]
    lines += ["", f"## {TITLES['lengths']}", "", f"![{TITLES['lengths']}]({figure_folder}/lengths.png)", "",
              "| field | category | records | median | q1 | q3 | max | mean |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, by_category in numbers["lengths"].items():
        for category, s in by_category.items():
            if s["records"]:
                lines.append(f"| {name} | {category} | {s['records']:,} | {s['median']:g} | {s['q1']:g} | "
                             f"{s['q3']:g} | {s['max']:g} | {s['mean']:g} |")
    lines += ["", f"## {TITLES['verbs']}", "", f"![{TITLES['verbs']}]({figure_folder}/verbs.png)", "",
              "| verb | records | most frequent objects |", "|---|---:|---|"]
    lines += [f"| {v['verb']} | {v['records']:,} | " + ", ".join(f"{o['object']} ({o['records']})" for o in v["objects"])
              + " |" for v in numbers["verbs"]]
    lines += ["", f"## {TITLES['inputs']}", "", f"![{TITLES['inputs']}]({figure_folder}/inputs.png)", "",
              "| category | with an input | share |", "|---|---:|---:|"]
    lines += [f"| {c} | {v['with_input']:,} | {v['share']:.1%} |" for c, v in numbers["inputs"].items()]
    near = numbers["near_duplicates"]
    lines += ["", f"## {TITLES['near_duplicates']}", "",
              f"![{TITLES['near_duplicates']}]({figure_folder}/near_duplicates.png)", "",
              f"{plural(near['histogram']['pairs_above_from'], 'pair')} above ROUGE-L {HISTOGRAM_FROM}; "
              f"{near['pairs']:,} above {near['threshold']}; Self-Instruct's greedy filter drops "
              f"{plural(near['greedy_dropped'], 'record')}.",
              "", f"## {TITLES['checks']}", "", f"![{TITLES['checks']}]({figure_folder}/checks.png)", "",
              "| check | reason | count |", "|---|---|---:|"]
    lines += [f"| {check} | {reason} | {count:,} |" for check, counts in numbers["checks"].items()
              for reason, count in counts.items()]
    return "\n".join(lines) + "\n"


def write_report(report: ReportNumbers, folder: Path) -> None:
    """figures/*.png|svg, report.md and report.json in `folder`."""
    write_figures(report, folder / "figures")
    (folder / "report.md").write_text(markdown(report, "figures"), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(report.numbers, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
