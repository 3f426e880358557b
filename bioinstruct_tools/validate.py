"""`validate`: run the checks on any source, and write its `--rejects` and `--pairs` files.

The output files follow `paths`' rules (never an input, never an existing file without `overwrite`,
never a link or a file inside the package), are locked for the run and appear only when complete.
Near-duplicate pairs stream into their file as the scan finds them, so memory does not grow with them.
"""

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

from bioinstruct_tools import checks, paths
from bioinstruct_tools.json_writer import write_json_lines, write_pairs
from bioinstruct_tools.sources import NO_FIELD_MAP, FieldMap


@dataclass(frozen=True)
class ValidateOptions:
    source: str
    field_map: FieldMap = NO_FIELD_MAP
    validation: checks.ValidationOptions = field(default_factory=checks.ValidationOptions)
    rejects: Optional[str] = None  # every offending record with its reasons, as JSON Lines
    pairs: Optional[str] = None  # every near-duplicate pair, as JSON Lines
    overwrite: bool = False  # replace existing output files


@dataclass
class ValidateResult:
    validation: checks.Validation
    rejects_written: int = 0
    pairs_written: int = 0


def validate_source(options: ValidateOptions, hooks: Optional[checks.Hooks] = None,
                    check_list: Sequence[checks.Check] = checks.CHECKS) -> ValidateResult:
    """Validate `options.source` with `check_list`, writing the rejects and pairs files it asks for."""
    hooks = hooks or checks.Hooks()
    outputs = paths.check_output_files([path for path in (options.rejects, options.pairs) if path],
                                       [options.source, *options.validation.benchmark_paths], options.overwrite,
                                       names="--rejects and --pairs")
    with paths.output_files(outputs, "bioinstruct validate") as files:
        pairs_file = files[-1] if options.pairs else None
        if pairs_file is not None:
            hooks = replace(hooks, on_pairs=lambda *batch: write_pairs(pairs_file, *batch))
        validation = checks.validate_file(options.source, options.validation, hooks, check_list,
                                          field_map=options.field_map)
        result = ValidateResult(validation)
        if options.rejects:
            result.rejects_written = write_json_lines(files[0], checks.rejected_records(validation))
        near = validation.get(checks.NEAR_DUPLICATES)
        if options.pairs and near is not None and near.findings is not None:
            result.pairs_written = near.findings.pairs
    return result
