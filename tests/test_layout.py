"""The house's rules, checked on the source: no import circle, and no import against the flow.

Every import counts, at the top of a module or inside a function (a lazy import that runs against
the flow is still a dependency). Rooms are ordered; a module may import only its own room and the
rooms before it.
"""

import ast
import re
from pathlib import Path

import sharebench

PACKAGE = Path(sharebench.__file__).parent
# earlier → later. records is the storage layer (it imports no other room), so every stage may write
# through it; api (sharebench.compose/run/assemble/load) is the door from Python, cli the command
# line's: both may import anything before them.
ROOMS = [
    "version",
    "errors",
    "terminal",
    "configs",
    "schemes",
    "records",
    "data",
    "models",
    "accounting",
    "train",
    "checks",
    "run",
    "compare",
    "api",
    "cli",
]
TOP = {"__init__"}  # sharebench/__init__.py: the version, and api's calls under their public names


def room_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        parts = ["sharebench", *rel.parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imports_of(name: str, path: Path) -> set[str]:
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("sharebench")}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.startswith("sharebench"):
                known = modules()
                subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
                found |= subs or {base}
    return found - {name}


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {i for i in imports_of(name, path) if i in known or i == "sharebench"} for name, path in known.items()
    }


def test_every_room_is_known_and_opens_with_a_docstring():
    for name, path in modules().items():
        room = room_of(name)
        assert room in ROOMS or room in TOP or room == "conf", f"{name}: room {room!r} is not in the flow"
        if path.name == "__init__.py" or name.count(".") == 1:
            assert ast.get_docstring(ast.parse(path.read_text())), f"{name} has no docstring saying its job"


def test_no_import_runs_against_the_flow():
    order = {room: i for i, room in enumerate(ROOMS)}
    bad = []
    for name, targets in graph().items():
        here = room_of(name)
        if here in TOP or here == "conf":
            continue
        for target in targets:
            there = room_of(target)
            if there in TOP:
                continue
            if order[there] > order[here]:
                bad.append(f"{name} imports {target} ({here} comes before {there})")
    assert not bad, "\n".join(bad)


def test_no_import_circle():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt) :] + [nxt]
                raise AssertionError("import circle: " + " → ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in edges:
        if node not in state:
            visit(node)


def test_the_checker_sees_a_lazy_import_against_the_flow(tmp_path):
    """The walk finds imports inside functions too (what the rules above rely on)."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from sharebench.run.job import run_job\n")
    assert "sharebench.run.job" in imports_of("sharebench.models.m", source)


def test_hydra_private_api_and_the_config_module_name_live_in_configs_only():
    """configs.compose / RunArgs / parse_overrides / locate are the one door to Hydra's composition
    and its private helpers; the config tree's module name (configs.CONFIG_MODULE) is typed there only."""
    repo = PACKAGE.parent
    sources = [*PACKAGE.rglob("*.py"), *(repo / "tests").rglob("*.py"), *(repo / "scripts").rglob("*.py")]
    bad = []
    for path in sources:
        if path in (PACKAGE / "configs.py", Path(__file__), Path(__file__).with_name("test_hydra_pins.py")):
            continue  # configs.py reaches Hydra's private names; test_hydra_pins.py pins each
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hydra._internal"):
                bad.append(f"{path.relative_to(repo)} imports {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "hydra":
                if {a.name for a in node.names} & {"compose", "initialize_config_module", "initialize"}:
                    bad.append(f"{path.relative_to(repo)} composes with Hydra itself, not configs.compose")
            if isinstance(node, ast.Constant) and "hydra._internal" in str(node.value):
                bad.append(f"{path.relative_to(repo)} names hydra._internal (configs.py names Hydra's private places)")
            if isinstance(node, ast.Constant) and re.search(r"sharebench\.conf\b", str(node.value)):
                bad.append(f"{path.relative_to(repo)} types 'sharebench.conf' (use configs.CONFIG_MODULE)")
    assert not bad, "\n".join(bad)


def test_no_test_file_imports_another():
    """Shared test helpers live in tests/helpers/, so that no test file depends on another's insides."""
    bad = []
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            bad += [f"{path.name} imports {n}" for n in names if n.split(".")[0].startswith("test_")]
    assert not bad, "\n".join(bad)


def function_lengths() -> list[tuple[int, str]]:
    """(lines, "path:line name") of every function and method in sharebench/, longest first; a nested
    function counts inside its parent and on its own."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"
                found.append((node.end_lineno - node.lineno + 1, where))
    return sorted(found, reverse=True)


def test_every_function_reads_on_one_screen():
    """The house rule is ~60 lines a function; 80 is the line no function crosses."""
    long = [f"{n} lines: {where}" for n, where in function_lengths() if n > 80]
    assert not long, "\n".join(long)


if __name__ == "__main__":  # python tests/test_layout.py: the ten longest functions
    for n, where in function_lengths()[:10]:
        print(f"{n:4d}  {where}")
