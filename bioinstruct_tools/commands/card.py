"""`bioinstruct card`: maintainers regenerate the checkout's dataset_infos.json (and `--check` for drift)."""

NAME = "card"


def register(commands) -> None:
    parser = commands.add_parser(NAME, help="maintainers: regenerate the checkout's dataset_infos.json",
                                 description="Regenerate the package's recorded dataset_infos.json and the loading "
                                             "script's copy of it from the builder (in a git checkout only).")
    parser.add_argument("--check", action="store_true", help="only report whether they are out of date (exit 1)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from bioinstruct_tools import checkout  # datasets, only for this command

    checkout.require_checkout("`bioinstruct card`")
    if args.check:
        stale = checkout.stale_repo_files()
        if stale:
            print(f"out of date: {', '.join(str(p) for p in stale)} (run `bioinstruct card`)")
            return 1
        print("dataset_infos.json matches the builder")
        return 0
    written = checkout.write_repo_files()
    print(f"rewrote {', '.join(str(p) for p in written)}" if written else "already up to date")
    return 0
