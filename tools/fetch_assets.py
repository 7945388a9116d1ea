"""Fetch the front-end packages the pages use from the npm registry, pinned by integrity.

No third-party JavaScript is committed: `make install` runs this. Pages work without it (htmx
only enhances them), so a failed download warns instead of failing the install.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGES = [
    # (tarball URL, sha512 integrity from the registry, member in the tarball, target file)
    (
        "https://registry.npmjs.org/htmx.org/-/htmx.org-2.0.11.tgz",
        "Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        "package/dist/htmx.min.js",
        "htmx.min.js",
    ),
]
VENDOR = Path(__file__).resolve().parent.parent / "src" / "dajiuzhu" / "web" / "static" / "vendor"


def main() -> int:
    VENDOR.mkdir(parents=True, exist_ok=True)
    for url, integrity, member, target in PACKAGES:
        dest = VENDOR / target
        if dest.exists():
            continue
        try:
            with urllib.request.urlopen(url, timeout=60) as resp:  # noqa: S310 (fixed https URL)
                data = resp.read()
        except OSError as exc:
            print(f"warning: could not fetch {url}: {exc}; pages will work without it")
            continue
        digest = base64.b64encode(hashlib.sha512(data).digest()).decode()
        if digest != integrity:
            print(f"error: integrity mismatch for {url}", file=sys.stderr)
            return 1
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            fh = tar.extractfile(member)
            if fh is None:
                print(f"error: {member} missing from {url}", file=sys.stderr)
                return 1
            dest.write_bytes(fh.read())
        print(f"fetched {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
