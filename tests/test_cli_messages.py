"""User text in CLI messages is printed as text: rich markup in it is neither parsed nor lost."""

from __future__ import annotations

from pathlib import Path

import yaml

from cuevision.scheme import DEFAULT_SCHEME


def test_a_path_with_brackets_gets_the_one_line_error(run_cli) -> None:
    result = run_cli("metrics", "missing[/].csv", "-o", "out[bold]", check=False)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "MarkupError" not in result.stderr
    assert result.stderr.strip().splitlines() == ["error: missing[/].csv: no such events file"]


def test_a_scheme_error_keeps_its_regex(run_cli, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_SCHEME.read_text())
    data["event_types"][0]["name"] = "Child Looks [/]"
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(yaml.safe_dump(data))
    events = tmp_path / "events.csv"
    events.write_text("actor,type,onset_s,offset_s\n")
    result = run_cli("metrics", events, "-o", tmp_path / "out", "--scheme", scheme, check=False)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and "event_types.0.name" in line
    assert "'^[a-z][a-z0-9_]*$'" in line
