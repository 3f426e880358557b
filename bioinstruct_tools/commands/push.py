"""`bioinstruct push DIR --repo-id ORG/NAME`: publish a built folder in one commit, once the gate has checked it."""

import sys

from bioinstruct_tools.commands.arguments import contamination_arguments, hub_repo_id, validation_arguments
from bioinstruct_tools.commands.arguments import validation_options
from bioinstruct_tools.commands.printing import STEP_BARS, print_json, print_validation
from bioinstruct_tools.published import PUBLISHED_SIZE, UPSTREAM_REPO_ID

NAME = "push"


def register(commands) -> None:
    parser = commands.add_parser(NAME, help="push a built folder to the Hub in one commit",
                                 description="Check that DIR is exactly what `bioinstruct build` wrote and validate "
                                             "its records again, then commit the layout's files to the Hub in one "
                                             "commit that also deletes the repo's files of the layout that the build "
                                             "no longer has.")
    parser.add_argument("dir", metavar="DIR", help="a folder written by `bioinstruct build`")
    parser.add_argument("--repo-id", required=True, type=hub_repo_id, metavar="ORG/NAME", help="the Hub dataset repo")
    parser.add_argument("--revision", default="main", metavar="BRANCH", help="the branch to commit to (default: main)")
    parser.add_argument("--create-pr", action="store_true", help="open a pull request instead of committing")
    parser.add_argument("--dry-run", action="store_true", help="print the checks and the plan; touch nothing")
    parser.add_argument("--json", action="store_true", help="with --dry-run: print the checks and the plan as JSON")
    parser.add_argument("--message", metavar="TEXT",
                        help="the commit message (default: names the copy, the package version and git commit)")
    validation_arguments(parser)
    contamination_arguments(parser)
    parser.epilog = f"The size gate is always {PUBLISHED_SIZE:,} rows for {UPSTREAM_REPO_ID}."
    parser.set_defaults(run=run)


def run(args) -> int:
    from bioinstruct_tools import hub, release  # huggingface_hub and datasets, only for this command

    options = validation_options(args)
    try:
        checked = release.check_release(args.dir, args.repo_id, options, STEP_BARS)
    except release.ReleaseRefused as e:
        print_validation(e.validation, show=args.show, out=sys.stderr)
        raise
    plan = hub.plan_push(checked, revision=args.revision, message=args.message)
    if args.dry_run and args.json:
        print_json({**plan.to_json(), "validation": checked.validation.to_json()})
        return 0
    print_validation(checked.validation, show=args.show)
    if args.dry_run:
        print(hub.describe_plan(plan))
        return 0
    url = hub.push(plan, create_pr=args.create_pr)
    print(f"{'opened pull request' if args.create_pr else 'pushed'}: {url}")
    return 0
