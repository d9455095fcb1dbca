#!/usr/bin/env python3
"""Run a command with the variables of an environment file, read as systemd's EnvironmentFile=
reads it (KEY=VALUE lines, `#` comments, one pair of quotes around a value removed), so that a
manual `manage.py` sees exactly what the services see. A shell's `.` would choke on values with
spaces, `<` or JSON.

    deploy/envfile.py /etc/illgateway/illgateway.env .venv/bin/python manage.py migrate
"""

import os
import sys


def read_env_file(path: str) -> dict[str, str]:
    variables = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith(("#", ";")):
                continue
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key.replace("_", "").isalnum():
                raise SystemExit(f"{path}:{number}: not a KEY=VALUE line")
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            variables[key] = value
    return variables


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    os.environ.update(read_env_file(sys.argv[1]))
    os.execvp(sys.argv[2], sys.argv[2:])  # noqa: S606 (the command as given, as env(1) does)
