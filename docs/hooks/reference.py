"""MkDocs hook: the configuration reference, generated from conf/ at build time.

Every key's meaning is the comment written beside it in its YAML file, so the reference can never
disagree with the files: one page per config group, one table per option, nothing typed twice.
"""

import re
from pathlib import Path

from mkdocs.structure.files import File

CONF = Path(__file__).resolve().parents[2] / "conf"
KEY = re.compile(
    r'^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>"[^"]+"|[\w@./-]+):(?P<value>(?:[^#]|(?<!\s)#)*?)\s*(?:\s#\s?(?P<comment>.*))?$'
)
CONTINUED = re.compile(r"^\s+#\s?(?P<comment>.*)$")


def parse(path: Path) -> tuple[str, list[tuple[str, str, str]]]:
    """(the file's opening comment, [(dotted key, default, comment)]) of one conf file."""
    header, rows, stack, opened = [], [], [], False
    for line in path.read_text().splitlines():
        if not opened and line.startswith("#"):
            text = line.lstrip("#").strip()
            if text.startswith("@"):  # a declaration for the code (configs.twins): said in words here
                key, _, value = text[1:].partition(":")
                said = {
                    "twin": f"Its unshared twin: `{value.strip()}`.",
                    "baseline": "A baseline beside the spectrum line.",
                }
                header += [said[key]] if key in said else []
            else:
                header.append(re.sub(r"\s{2,}", "  ", text))
            continue
        opened = opened or bool(line.strip())
        continued = CONTINUED.match(line)
        if continued and rows and line.index("#") > 0:
            key, value, comment = rows[-1]
            rows[-1] = (key, value, f"{comment} {continued['comment'].strip()}".strip())
            continue
        m = KEY.match(line)
        if not m or line.lstrip().startswith("#"):
            continue
        depth = len(m["indent"]) + (2 if m["dash"] else 0)
        stack = [(d, k) for d, k in stack if d < depth]
        key = ".".join([k for _, k in stack] + [m["key"]])
        value = m["value"].strip()
        if not value:  # a mapping: its children follow
            stack.append((depth, m["key"]))
        if m["dash"] and stack and stack[0][1] == "defaults":
            key = m["key"]  # a defaults entry: `group: option`
        if value or m["comment"]:  # a bare mapping without a comment says nothing a reader needs
            rows.append((key, value, (m["comment"] or "").strip()))
    return render_header(header), rows


def render_header(lines: list[str]) -> str:
    """The file's opening comment: prose as a paragraph, example commands as a code block."""
    prose = [line for line in lines if not line.startswith("sharebench ")]
    commands = [line for line in lines if line.startswith("sharebench ")]
    text = " ".join(prose)
    return text + ("\n\n```bash\n" + "\n".join(commands) + "\n```" if commands else "")


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def table(rows) -> str:
    lines = ["| key | default | what it means |", "| --- | --- | --- |"]
    lines += [f"| `{k}` | `{cell(v)}` | {cell(c)} |" if v else f"| `{k}` | | {cell(c)} |" for k, v, c in rows]
    return "\n".join(lines)


def group_page(group: Path) -> str:
    options = sorted(group.glob("*.yaml"))
    out = [f"# `{group.name}`", "", f"Generated from `conf/{group.name}/` — the comments in those files.", ""]
    out += ["Options: " + ", ".join(f"[`{p.stem}`](#{anchor(p.stem)})" for p in options), ""]
    for path in options:
        header, rows = parse(path)
        out += [f"## `{group.name}={path.stem}` {{ #{anchor(path.stem)} }}", "", header, ""]
        shown = [
            r for r in rows if not r[0].startswith(("defaults", "hydra")) or r[0].startswith("hydra.sweeper.params")
        ]
        if shown:
            out += [table(shown), ""]
    return "\n".join(out)


def anchor(stem: str) -> str:
    return "option-" + re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def index_page() -> str:
    header, rows = parse(CONF / "config.yaml")
    out = [
        "# Configuration reference",
        "",
        "Generated from `conf/` at every docs build: each meaning below is the comment",
        "beside its key in the YAML file, so this page and the files cannot disagree.",
        "",
        "## Config groups",
        "",
        "Choose one option per group with `GROUP=OPTION`; override any key with `KEY=VALUE`.",
        "",
        "| group | options |",
        "| --- | --- |",
    ]
    out += [
        f"| [`{g.name}`]({g.name}.md) | {', '.join(f'`{p.stem}`' for p in sorted(g.glob('*.yaml')))} |"
        for g in groups()
    ]
    out += ["", "## Top-level keys (`conf/config.yaml`)", "", header, ""]
    out += [table([r for r in rows if not r[0].startswith("hydra")]), ""]
    return "\n".join(out)


def on_files(files, config):
    pages = {"reference/index.md": index_page()}
    for group in groups():
        pages[f"reference/{group.name}.md"] = group_page(group)
    for uri, text in pages.items():
        files.append(File.generated(config, uri, content=text))
    return files


def groups() -> list[Path]:
    return sorted(g for g in CONF.iterdir() if g.is_dir() and g.name != "hydra" and any(g.glob("*.yaml")))


def on_config(config):
    """The Reference section of the navigation lists one page per group, found in conf/."""
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and item.get("Reference") == "reference/index.md":
            pages = [{f"{g.name}": f"reference/{g.name}.md"} for g in groups()]
            config["nav"][i] = {"Reference": ["reference/index.md", *pages]}
    return config
