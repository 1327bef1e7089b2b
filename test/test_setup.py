"""setup.py declares every package the code imports, in the extra that uses it."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]

# Import names whose distribution has another name.
DISTRIBUTION = {"yaml": "PyYAML", "ci_sdr": "ci-sdr", "mir_eval": "mir_eval"}
# Where the code that imports a module runs: the toolkit itself, or the recipes (which install train+eval).
CODE = {"espnet2": "espnet2", "recipes": "egs2", "tools": "tools"}


def setup_requirements() -> dict:
    """{"install": [...], "train": [...], ...} as setup.py declares them."""
    with mock.patch("setuptools.setup") as setup:
        exec(compile((REPO / "setup.py").read_text(), "setup.py", "exec"), {"__name__": "__main__"})
    kwargs = setup.call_args.kwargs
    return {"install": kwargs["install_requires"], **kwargs["extras_require"]}


def names(requirements) -> set:
    return {re.split(r"[<>=!~ \[]", r)[0].lower().replace("_", "-") for r in requirements}


def imported_modules(root: Path) -> set:
    found = set()
    for path in root.rglob("*.py"):
        if "venv" in path.parts:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "optional_import"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value.split(".")[0])
    local = {p.stem for p in root.rglob("*.py")} | {"espnet2", "test", "setuptools"}
    return {m for m in found if m not in sys.stdlib_module_names and m not in local}


def distribution(module: str) -> str:
    if module in DISTRIBUTION:
        return DISTRIBUTION[module]
    dists = importlib.metadata.packages_distributions().get(module, [module])
    return dists[0]


def test_every_imported_package_is_declared():
    req = setup_requirements()
    everything = names(r for reqs in req.values() for r in reqs)
    recipes = names(req["install"] + req["train"] + req["eval"])
    missing = []
    for where, root in CODE.items():
        for module in sorted(imported_modules(REPO / root)):
            dist = distribution(module).lower().replace("_", "-")
            declared = recipes if where == "recipes" else everything
            if dist not in declared:
                missing.append(f"{root}/: imports {module} ({dist})")
    assert not missing, "not declared in setup.py:\n" + "\n".join(missing)


def test_undeclared_dependencies_of_dependencies_are_declared():
    # fast_bss_eval 0.1.4 imports `packaging` without declaring it: every extra that installs
    # fast_bss_eval installs packaging too (requirements.txt as well).
    req = setup_requirements()
    for extra, reqs in req.items():
        if "fast-bss-eval" in names(reqs):
            assert "packaging" in names(reqs), extra
    lines = [ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    assert "packaging" in lines and "fast_bss_eval" in lines
