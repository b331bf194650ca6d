"""The test groups of tests/conftest.py hold under pytest-xdist (`--dist loadgroup`, as scripts/test.sh runs):
every test of a group (the browser tests of one module) runs on one worker, and a module that names its own
group keeps it."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SUITE = """
import pytest

{tests}
"""


def test_a_groups_tests_all_run_on_one_worker_and_an_own_group_is_kept(tmp_path):
    tests = []
    for n in range(8):
        tests.append(f"@pytest.mark.browser\ndef test_browser_{n}():\n    pass\n")
        tests.append(f"def test_other_{n}():\n    pass\n")
    tests.append('@pytest.mark.browser\n@pytest.mark.xdist_group("walk")\ndef test_walk():\n    pass\n')
    (tmp_path / "test_suite.py").write_text(SUITE.format(tests="\n\n".join(tests)))
    (tmp_path / "conftest.py").write_text("from tests.conftest import pytest_collection_modifyitems  # noqa: F401\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    browser: drives Chromium\n")
    # Only pytest-xdist is loaded, in the three processes (the run and its two workers): the other plugins
    # installed (Django's, Hypothesis's, Schemathesis's) take most of the time of each start and play no part.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-n", "2", "--dist", "loadgroup", "-v"]
        + ["-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ran = re.findall(r"\[(gw\d)\] \[\s*\d+%\] PASSED \S+::(test_\w+)(@[\w-]+)?", result.stdout)
    assert len(ran) == 17, result.stdout
    browser_workers = {worker for worker, name, group in ran if name.startswith("test_browser_")}
    assert len(browser_workers) == 1, result.stdout  # the group was not split between the workers
    groups = {name: group for worker, name, group in ran}
    assert {groups[f"test_browser_{n}"] for n in range(8)} == {"@browser-test_suite"}, result.stdout
    assert groups["test_walk"] == "@walk" and not groups["test_other_0"], result.stdout
