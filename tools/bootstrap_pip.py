"""Give a virtual environment pip when the system Python has no ensurepip.

Debian's python3 ships the venv module without ensurepip unless python3-venv is installed, so
`python3 -m venv` fails on a machine that has only python3. `make` then creates the environment
with `--without-pip` and runs this script with the environment's python: it downloads pip's
wheel from PyPI (the only network the library's machines reach) and installs pip from it.
"""

import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

INDEX = "https://pypi.org/pypi/pip/json"


def main() -> int:
    with urllib.request.urlopen(INDEX, timeout=60) as response:  # noqa: S310 - fixed https URL
        release = json.load(response)
    wheel = next(
        f
        for f in release["urls"]
        if f["packagetype"] == "bdist_wheel" and f["filename"].endswith(".whl")
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        # Mirrors may answer with addresses relative to the JSON document.
        url = urllib.parse.urljoin(INDEX, wheel["url"])
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310
            path.write_bytes(response.read())
        # A wheel is a zip file Python can import from: pip installs itself from its own wheel.
        return subprocess.call(  # noqa: S603
            [sys.executable, f"{path}/pip", "install", "--no-index", str(path)]
        )


if __name__ == "__main__":
    sys.exit(main())
