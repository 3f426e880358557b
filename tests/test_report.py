"""`bioinstruct report`: valid figures of the stated size, numbers equal validate's, byte-identical runs."""

import json
import struct
import xml.etree.ElementTree as ElementTree

import pytest
from matplotlib.patches import Rectangle
from conftest import REPO, SAMPLE, records, write_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from bioinstruct_tools import report, task_verbs
from bioinstruct_tools.categories import CATEGORIES
from bioinstruct_tools.cli import main


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "sample"
    assert main(["report", str(SAMPLE), "--out", str(out)]) == 0
    return out


def test_every_figure_is_a_valid_png_and_svg_of_the_stated_size(sample_report):
    for name in report.FIGURE_NAMES:
        assert png_size(sample_report / "figures" / f"{name}.png") == (900, 500), name
        svg = ElementTree.parse(sample_report / "figures" / f"{name}.svg").getroot()
        assert svg.tag.endswith("svg") and (svg.get("width"), svg.get("height")) == ("648pt", "360pt"), name
    text = (sample_report / "report.md").read_text()
    assert all(f"](figures/{name}.png)" in text for name in report.FIGURE_NAMES)


def test_numbers_equal_validate_json_and_the_build_table(sample_report, tmp_path, capsys):
    numbers = json.loads((sample_report / "report.json").read_text())
    capsys.readouterr()
    main(["validate", str(SAMPLE), "--json"])
    validated = json.loads(capsys.readouterr().out)
    assert numbers["rows"] == validated["rows"] == 101
    assert {c: v["rows"] for c, v in numbers["categories"].items()} == validated["checks"]["categories"]["rows"]
    near = validated["checks"]["near_duplicates"]
    assert numbers["near_duplicates"]["pairs"] == near["pairs"]
    assert numbers["near_duplicates"]["greedy_dropped"] == len(near["greedy_dropped"])
    assert numbers["checks"] == {name: check["counts"] for name, check in validated["checks"].items() if check["counts"]}
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "b"), "--json"]) == 0
    table = {row["config"]: row["rows"] for row in json.loads(capsys.readouterr().out)["configs"]}
    assert {c: v["rows"] for c, v in numbers["categories"].items()} == {c: table[c] for c in CATEGORIES}
    # The histogram holds every pair above 0.5, the threshold's pairs among them.
    histogram = numbers["near_duplicates"]["histogram"]
    assert sum(histogram["pairs_per_bin"]) == histogram["pairs_above_from"] >= near["pairs"]


def test_two_reports_of_the_same_input_are_byte_identical(sample_report, tmp_path):
    assert main(["report", str(SAMPLE), "--out", str(tmp_path / "again")]) == 0
    for path in sample_report.rglob("*"):
        if path.is_file():
            assert (tmp_path / "again" / path.relative_to(sample_report)).read_bytes() == path.read_bytes(), path


def test_figures_drawn_on_one_core_are_the_bytes_drawn_on_two(sample_report, tmp_path, monkeypatch):
    from bioinstruct_tools import workers

    if workers.cores() < 2:
        pytest.skip("one core here: the two-process path does not run")
    monkeypatch.setattr(workers, "cores", lambda: 1)  # every figure drawn in this process
    assert main(["report", str(SAMPLE), "--out", str(tmp_path / "one-core")]) == 0
    figures = sorted((sample_report / "figures").iterdir())
    assert [path.name for path in figures] == sorted(path.name for path in (tmp_path / "one-core" / "figures").iterdir())
    for path in figures:
        assert (tmp_path / "one-core" / "figures" / path.name).read_bytes() == path.read_bytes(), path.name


@pytest.mark.parametrize("rows", [records(1), [dict(r, input="") for r in records(3)]], ids=["one-record", "no-input"])
def test_small_files_and_empty_categories_report_without_error(rows, tmp_path):
    source = write_jsonl(tmp_path / "small.jsonl", rows)
    assert main(["report", str(source), "--out", str(tmp_path / "r")]) == 0
    numbers = json.loads((tmp_path / "r" / "report.json").read_text())
    assert sum(v["rows"] for v in numbers["categories"].values()) == len(rows)
    assert any(v["rows"] == 0 for v in numbers["categories"].values())  # some category has no record
    assert png_size(tmp_path / "r" / "figures" / "lengths.png") == (900, 500)


def test_a_three_megabyte_word_is_neither_a_verb_nor_an_object(tmp_path):
    """Found trying a hostile file: a 3 MB instruction was taken for a verb and drawn as a tick label,
    which matplotlib cannot render (a traceback, no report)."""
    long_word = "x" * 3_000_000
    rows = records(3) + [{"instruction": long_word, "input": "", "output": "y"},
                         {"instruction": f"Extract the {long_word} from the note.", "input": "n", "output": "z"}]
    source = write_jsonl(tmp_path / "hostile.jsonl", rows)
    assert main(["report", str(source), "--out", str(tmp_path / "r")]) == 0
    verbs = json.loads((tmp_path / "r" / "report.json").read_text())["verbs"]
    assert all(len(verb["verb"]) < 40 and all(len(o["object"]) < 40 for o in verb["objects"]) for verb in verbs)
    assert png_size(tmp_path / "r" / "figures" / "verbs.png") == (900, 500)


def test_a_built_folder_reports_like_its_source(tmp_path, sample_report):
    assert main(["build", "--source", str(SAMPLE), "--out", str(tmp_path / "b")]) == 0
    assert main(["report", str(tmp_path / "b"), "--out", str(tmp_path / "r")]) == 0
    built = json.loads((tmp_path / "r" / "report.json").read_text())
    source = json.loads((sample_report / "report.json").read_text())
    assert {k: v for k, v in built.items() if k != "file"} == {k: v for k, v in source.items() if k != "file"}
    card = (tmp_path / "b" / "README.md").read_text()
    assert "![Category shares](assets/categories.png)" in card and (tmp_path / "b" / "assets" / "verbs.png").exists()


def test_report_refuses_to_replace_a_folder_it_did_not_write(tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main(["report", str(SAMPLE), "--out", str(tmp_path / "mine"), "--overwrite"]) == 2
    assert "not a folder written by `bioinstruct report`" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep"


VERB_EVAL = [json.loads(line) for line in (REPO / "data" / "verb_eval.jsonl").read_text().splitlines()]


def test_task_verbs_and_objects_on_the_labeled_instructions():
    """50 instructions labeled (verb, object) for this package: the root verb of an imperative, the head noun
    of its direct object, None for a clause or no object, "question" for a question. The rules were written
    with these in view, so this holds the rules, it does not estimate their accuracy on new text."""
    found = [task_verbs.verb_and_object(row["instruction"]) for row in VERB_EVAL]
    verbs = sum(verb == row["verb"] for (verb, _), row in zip(found, VERB_EVAL))
    objects = sum(noun == row["object"] for (_, noun), row in zip(found, VERB_EVAL))
    assert len(VERB_EVAL) == 50 and verbs >= 49 and objects >= 48, (verbs, objects)
    assert task_verbs.verb_and_object("List them.") == ("list", None)


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("abcdefghijklmnopqrstuvwxyz ?,.0123456789")), max_size=60)
       | st.sampled_from([row["instruction"] for row in VERB_EVAL]))
def test_no_question_word_is_a_verb_and_no_number_or_adverb_an_object(instruction):
    verb, noun = task_verbs.verb_and_object(instruction)
    assert verb not in task_verbs.QUESTION_WORDS
    if noun is not None:
        assert not noun[0].isdigit() and not noun.endswith("ly") and noun not in task_verbs.QUESTION_WORDS
        assert noun not in ("please", "kindly")


def test_a_closing_please_is_not_the_object():
    assert task_verbs.verb_and_object("Evaluate my rash please, it itches") == ("evaluate", "rash")


def test_a_question_heavy_file_lists_real_verbs(tmp_path):
    questions = ["What are the side effects of metformin in older adults?", "How do I lower my cholesterol quickly?",
                 "Is it safe to drink coffee with atrial fibrillation?", "Could my headache be a sign of a stroke?",
                 "Do statins cause memory loss in elderly patients?", "Why does my knee swell after a long run?"]
    rows = [{"instruction": text, "input": "", "output": "x"} for text in questions]
    rows += [{"instruction": "Summarize the discharge note for the family.", "input": "", "output": "y"}]
    numbers = _numbers_of(rows, tmp_path).numbers
    assert [verb["verb"] for verb in numbers["verbs"]] == ["summarize"] and numbers["questions"] == 6
    assert numbers["verbs"][0]["objects"] == [{"object": "note", "records": 1}]


def _numbers_of(rows, tmp_path):
    from bioinstruct_tools import checks

    validation = checks.validate_file(str(write_jsonl(tmp_path / "rows.jsonl", rows)),
                                      checks.ValidationOptions(histogram_from=report.HISTOGRAM_FROM))
    return report.collect(validation)


def test_figures_do_not_mislead_on_skewed_or_missing_data(tmp_path):
    """The cases found on real files: a pair count a thousand times a record count, empty categories, every
    pair at ROUGE-L 1.0."""
    same = "Summarize the patient's symptoms and suggest next steps."
    rows = [{"instruction": same, "input": "", "output": f"answer {i}"} for i in range(250)]
    numbers = _numbers_of(rows, tmp_path)
    checks_axes = report.draw_checks(numbers).axes[0]
    assert checks_axes.get_xscale() == "log"  # 249 duplicates beside 31,125 pairs: both bars visible
    lengths = report.draw_lengths(numbers)
    instruction, given, output = lengths.axes
    for axes in (instruction, output):  # one category holds every record: the three others get no box
        assert len(axes.patches) == 1 and [t.get_text() for t in axes.texts] == ["no records"] * 3
    # no record has an input: no box flat at 0 on a -0.04..0.04 axis, but "no records" for every category
    assert len(given.patches) == 0 and [t.get_text() for t in given.texts] == ["no records"] * 4
    assert not given.get_yticks().size
    # the empty categories say so in the share and input figures too, instead of "0" and "0 of 0"
    empty = [category for category in CATEGORIES if not numbers.numbers["categories"][category]["rows"]]
    assert len(empty) == 3
    for draw in (report.draw_categories, report.draw_inputs):
        labels = [text.get_text() for text in draw(numbers).axes[0].texts]
        assert labels.count("no records") == 3 and not any(label in ("0", "0 of 0") for label in labels)
    verbs = report.draw_verbs(numbers).axes[0]
    assert verbs.get_title() == "The task verb and its objects"  # one verb: not "Top 1 task verbs"
    near = report.draw_near_duplicates(numbers).axes[0]
    assert near.get_xlim()[1] >= 1.01 + 0.005  # the bar of identical pairs, [1.00, 1.01), is drawn whole
    legend = near.get_legend()
    assert legend.get_bbox_to_anchor().transformed(near.transAxes.inverted()).y0 < 0  # below the axes
    legend = report.draw_categories(numbers).axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["this data (rules + word model)", "paper (GPT-4 labels)"]
    swatches = {tuple(patch.get_facecolor()) for patch in legend.findobj(Rectangle) if patch is not legend.legendPatch}
    assert len(swatches - {(1.0, 1.0, 1.0, 0.0), (1.0, 1.0, 1.0, 1.0)}) >= 5  # the four category colours and grey


@pytest.mark.parametrize("instruction,expected", [
    ("List the current understanding of long COVID.", ("list", "understanding")),  # an adjective is not the head
    ("Could you tell me more about it?", ("tell", None)),  # "more" is no noun, and none follows
    ("Provide any further details on dosing.", ("provide", "details")),
    ("Give some advice on sleep.", ("give", "advice")),
    ("Summarize the note provided.", ("summarize", "note")),  # a closing participle is still passed over
    ("I was wondering whether my rash is serious.", (task_verbs.QUESTION, None)),  # a question as a statement
    ("Thank you doctor, my knee is better now.", (None, None)),  # a patient's message: no task
    ("I think I have the flu.", (None, None)),
])
def test_adjectives_are_no_head_nouns_and_patient_messages_have_no_task_verb(instruction, expected):
    assert task_verbs.verb_and_object(instruction) == expected


def test_equal_counts_are_ranked_alphabetically_and_the_figure_says_when_all_are_one(tmp_path):
    rows = [{"instruction": f"Summarize the {noun} for the ward round.", "input": "", "output": "x"}
            for noun in ("report", "letter", "chart", "note", "abstract")]
    numbers = _numbers_of(rows, tmp_path)
    [summarize] = numbers.numbers["verbs"]
    assert [item["object"] for item in summarize["objects"]] == ["abstract", "chart", "letter", "note"]
    figure = report.draw_verbs(numbers)
    axes = figure.axes[0]
    assert "every object shown was seen once" in " ".join(axes.get_xlabel().split())  # the label is wrapped
    assert axes.get_xlim()[1] <= 1.45 * summarize["records"]
    # the whole label lies on the figure: as one line it ran off both edges
    figure.draw_without_rendering()  # lays the figure out as saving it does
    label = axes.xaxis.label.get_window_extent()
    assert 0 <= label.x0 and label.x1 <= figure.bbox.width and label.y0 >= 0


def test_the_verbs_axis_ends_near_its_longest_bar_when_every_name_fits(tmp_path):
    rows = [{"instruction": f"Summarize the note about case {i} in detail.", "input": "", "output": "x"} for i in range(40)]
    numbers = _numbers_of(rows, tmp_path)
    axes = report.draw_verbs(numbers).axes[0]
    assert axes.get_xlim()[1] == pytest.approx(1.05 * 40)


def test_a_figure_with_nothing_to_show_is_one_line_on_the_card(tmp_path):
    from conftest import build

    build(write_jsonl(tmp_path / "clean.jsonl", records(3)), tmp_path / "out")
    card_text = (tmp_path / "out" / "README.md").read_text()
    assert "No validation check found anything to report." in card_text
    assert "assets/checks.png" not in card_text and "assets/categories.png" in card_text
