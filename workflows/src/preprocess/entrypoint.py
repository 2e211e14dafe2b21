"""Preprocess one run's data: the script a notebook passed to Processor(...).run(code=...).

`sfn-build create` uploads this folder (workflows/single-processing.yaml, `code:`);
the job unpacks it and runs `python -u entrypoint.py --input_path ... --output_path ...` in it.
"""

import argparse
import pathlib
import shutil


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input_path", type=pathlib.Path, required=True)
    parser.add_argument("--output_path", type=pathlib.Path, required=True)
    parser.add_argument("--foo", default="bar")
    args = parser.parse_args()
    args.output_path.mkdir(parents=True, exist_ok=True)
    copied = 0
    for source in sorted(args.input_path.rglob("*")):
        if source.is_file():
            target = args.output_path / source.relative_to(args.input_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied += 1
    print(f"preprocessed {copied} files (foo={args.foo})")


if __name__ == "__main__":
    main()
