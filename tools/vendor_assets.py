"""Copy the front-end files the pages use from node_modules into web/static/vendor.

`make install` first runs `npm ci` (package.json and its lock file pin every package and its
integrity); this script then copies the files listed under "vendor" in package.json. No
third-party JavaScript is committed.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "dajiuzhu" / "web" / "static" / "vendor"


def main() -> int:
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    VENDOR.mkdir(parents=True, exist_ok=True)
    for source, target in manifest["vendor"].items():
        path = ROOT / "node_modules" / source
        if not path.is_file():
            print(f"error: {path} is missing; run `npm ci` first", file=sys.stderr)
            return 1
        shutil.copyfile(path, VENDOR / target)
    print(f"vendored {len(manifest['vendor'])} front-end files into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
