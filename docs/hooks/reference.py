"""MkDocs hook: the configuration reference, generated from conf/ at build time.

Every key's meaning is the comment written beside it in its YAML file, so the reference can never
disagree with the files: one page per config group, one table per option, nothing typed twice.

How a comment finds its key:
- a comment at the end of a key's line belongs to that key;
- comment lines right below it, indented past the start of the key, continue it;
- comment lines on their own above a key (after the file's opening comment, no blank line between)
  belong to the key below them.

An option that builds on others (`defaults: [shared_cnn, /spectrum@_here_: local, _self_]`) is shown
with every key it ends up with, each with the file that set its default; Hydra's own keys
(`_target_`, `_recursive_`, the defaults list) are said in words, not listed as keys.
"""

import html
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from mkdocs.structure.files import File

CONF = Path(__file__).resolve().parents[2] / "conf"
REFERENCES = CONF.parent / "docs" / "references.md"
KEY = re.compile(
    r'^(?P<indent>\s*)(?P<dash>-\s+)?(?P<key>"[^"]+"|[\w@./-]+):(?P<value>(?:[^#]|(?<!\s)#)*?)\s*(?:\s#\s?(?P<comment>.*))?$'
)
COMMENT_LINE = re.compile(r"^(?P<indent>\s*)#\s?(?P<comment>.*)$")
DEFAULT = re.compile(
    r"^\s*-\s+(?P<override>override\s+)?(?P<name>[\w/@.-]+)(?:\s*:\s*(?P<option>[^\s#]+))?\s*(?:#\s?(?P<comment>.*))?$"
)
COMMAND = re.compile(
    r"(?<=: |\. )(?:sharebench (?:run|params|list|plot|report)|mlflow ui|tensorboard)\b[^)]*?(?=\s{2,}|\)|$)"
)
DOCS_PATH = re.compile(r"(?<![\w/`])docs/(?P<page>[\w./-]+?\.md)(?P<anchor>#[\w-]+)?")


@dataclass
class Default:
    """One entry of a defaults list: `name` (a same-group option), `/group@package: option`, `_self_`."""

    group: str | None  # None: an option of the file's own group (or `_self_`)
    package: str | None
    option: str | None
    comment: str
    override: bool = False


@dataclass
class Conf:
    header: list[str]  # the opening comment's lines, declarations said in words
    rows: list[tuple[str, str, str]]  # (dotted key, default, comment); no defaults list entries
    defaults: list[Default] = field(default_factory=list)
    package: str | None = None  # `# @package …`


def parse(path: Path) -> Conf:
    """The opening comment, the keys with their defaults and comments, and the defaults list of one file."""
    header, rows, defaults, stack, opened, package = [], [], [], [], False, None
    leading: list[str] = []  # comment lines waiting for the key below them
    hanging = None  # (row index, column of the key) whose comment indented lines below continue
    for line in path.read_text().splitlines():
        if not opened and line.startswith("#"):
            text = line.lstrip("#").strip()
            if text.startswith("@package "):  # Hydra's: where the keys go, not prose
                package = text.split()[1]
            else:
                header.append(text)
            continue
        if not line.strip():
            leading, hanging = [], None
            continue
        opened = True
        comment = COMMENT_LINE.match(line)
        if comment:
            if hanging and len(comment["indent"]) > hanging[1]:
                key, value, text = rows[hanging[0]]
                rows[hanging[0]] = (key, value, f"{text} {comment['comment'].strip()}".strip())
            else:
                leading.append(comment["comment"].strip())
                hanging = None
            continue
        m = KEY.match(line)
        depth = len(m["indent"]) + (2 if m["dash"] else 0) if m else len(line) - len(line.lstrip())
        stack = [(d, k) for d, k in stack if d < depth]
        in_defaults = bool(stack) and stack[0][1] == "defaults" and line.lstrip().startswith("-")
        if in_defaults:
            d = DEFAULT.match(line)
            if d:
                name = d["name"]
                group, _, pkg = name.lstrip("/").partition("@") if d["option"] else (None, "", "")
                text = " ".join([*leading, (d["comment"] or "").strip()]).strip()
                if d["option"] is None:  # `- shared_cnn`, `- _self_`
                    defaults.append(Default(None, None, name, text))
                else:
                    defaults.append(Default(group, pkg or None, d["option"], text, bool(d["override"])))
                    if path.parent == CONF:  # the primary config's group choices are its first keys
                        hanging = (len(rows), line.index(name)) if d["comment"] else None
                        rows.append((name, d["option"], text))
            leading = []
            continue
        if not m:
            leading, hanging = [], None
            continue
        key = ".".join([k for _, k in stack] + [m["key"]])
        value = m["value"].strip()
        if not value:  # a mapping: its children follow
            stack.append((depth, m["key"]))
        text = " ".join([*leading, (m["comment"] or "").strip()]).strip()
        leading = []
        hanging = (len(rows), depth) if m["comment"] else None
        if key != "defaults" and (value or text):  # a bare mapping without a comment says nothing a reader needs
            rows.append((key, value, text))
    return Conf(header, rows, defaults, package)


def hydra_internal(key: str) -> bool:
    """Keys Hydra reads itself (`_target_`, `_recursive_`, …): shown in words, not as rows."""
    return any(re.fullmatch(r"_\w+_", part) for part in key.split("."))


# --- Markdown -----------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Comment text as Markdown that shows every character: `<run dir>` stays visible, code spans stay code,
    `docs/….md` becomes a link named by that page's title (the reference pages are one level below
    docs/), and a paper cited as on the References page links to its entry there."""
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", text)):
        if i % 2:  # a code span
            out.append(part)
            continue
        links = []

        def link(m, text=None):
            target = f"../{m['page']}{m['anchor'] or ''}" if text is None else f"../references.md#{m}"
            links.append(f"[{text or page_title(m['page'])}]({target})")
            return f"\x00{len(links) - 1}\x00"

        part = DOCS_PATH.sub(link, part)
        for pattern, key in citations():
            part = pattern.sub(lambda c, key=key: link(key, c[0]), part)
        part = part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("*", r"\*")
        part = re.sub(r"(?<!\w)_|_(?!\w)", r"\_", part)
        part = part.replace("|", "\\|")
        out.append(re.sub("\x00(\\d+)\x00", lambda m: links[int(m[1])], part))
    return "".join(out)


def page_title(page: str) -> str:
    """The title of a page of docs/ (its first `# ` line), to name a link to it; its path if it has none."""
    path = CONF.parent / "docs" / page
    lines = path.read_text().splitlines() if path.exists() else []
    return next((line[2:].strip() for line in lines if line.startswith("# ")), f"`docs/{page}`")


@cache
def citations() -> list[tuple[re.Pattern, str]]:
    """How a comment cites each entry of docs/references.md (`### Elsayed et al. 2020 { #elsayed2020 }`):
    its first author's name, then its year within a few words ("Ott, Linstead, LaHaye & Baldi 2020")."""
    found = []
    for heading in re.finditer(r"^### (\S+)[^{\n]*?(\d{4}) \{ #(\w+) \}$", REFERENCES.read_text(), re.MULTILINE):
        name, year, key = heading.groups()
        found.append((re.compile(rf"(?<![\w']){re.escape(name)}\b[^;()\n\x00]{{0,40}}?\b{year}\b"), key))
    return found


def code(text: str) -> str:
    """A value as a code span, whatever backticks it holds; pipes escaped for the table."""
    ticks = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}".replace("|", "\\|")


def render_header(lines: list[str]) -> str:
    """The file's opening comment: prose as a paragraph, example commands as a code block."""
    prose = [line for line in lines if not line.startswith("sharebench ")]
    commands = [line for line in lines if line.startswith("sharebench ")]
    text = " ".join(escape_prose(line) for line in prose)
    return text + ("\n\n```bash\n" + "\n".join(commands) + "\n```" if commands else "")


def escape_prose(line: str) -> str:
    """One line of an opening comment: a command after `Run:`, `E.g.` and the like becomes code."""
    parts, last = [], 0
    line = re.sub(r"([:.])\s+(?=(sharebench|mlflow|tensorboard) )", r"\1 ", line)
    for m in COMMAND.finditer(line):
        parts += [escape(re.sub(r"\s{2,}", " ", line[last : m.start()])), code(m[0].strip())]
        last = m.end()
    return "".join(parts) + escape(re.sub(r"\s{2,}", " ", line[last:]))


def value(text: str) -> str:
    """A default as inline code that may break after a comma (a sweep list is one long word otherwise):
    written as HTML, each character Markdown would read escaped as an entity."""
    text = html.escape(text, quote=False)
    text = "".join(f"&#{ord(c)};" if c in "\\`*_[]{}|" else c for c in text)
    # an item of a list stays whole (soft_tied_1e-2, not soft_tied_1e- / 2) unless it is very long
    if "," not in text:
        return f"<code>{text}</code>"
    items = [f'<span class="item">{t}</span>' if len(html.unescape(t)) <= 30 else t for t in text.split(",")]
    return "<code>" + ",<wbr>".join(items) + "</code>"


def table(rows, origin: bool = False) -> str:
    """Keys in a `conf-keys` block, so the stylesheet keeps each key on one line."""
    head = ["| key | default | set in | what it means |", "| --- | --- | --- | --- |"] if origin else []
    head = head or ["| key | default | what it means |", "| --- | --- | --- |"]
    lines = []
    for row in rows:
        key, default, comment = row[:3]
        cells = [code(key), value(default) if default else ""] + ([row[3]] if origin else []) + [escape_prose(comment)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(['<div class="conf-keys" markdown>', "", *head, *lines, "", "</div>"])


# --- options built from others ----------------------------------------------------------------------


def option_link(group: str, stem: str, here: str) -> str:
    target = f"#{anchor(stem)}" if group == here else f"{group}.md#{anchor(stem)}"
    name = stem if group == here else f"{group}={stem}"
    return f"[`{name}`]({target})"


def resolved(group: str, stem: str, here: str, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """Every key option `stem` of `group` ends up with: (key, default, comment, where its default is set),
    following its defaults list in Hydra's order (`_self_` last unless placed)."""
    conf = parse(CONF / group / f"{stem}.yaml")
    entries = [d for d in conf.defaults if not d.override]
    if not any(d.option == "_self_" for d in entries):
        entries.append(Default(None, None, "_self_", ""))
    keys: dict[str, tuple[str, str, str]] = {}
    for d in entries:
        if d.option == "_self_":
            layer = [(prefix + k, v, c, option_link(group, stem, here)) for k, v, c in conf.rows]
        elif d.group is None:
            layer = resolved(group, d.option, here, prefix)
        else:
            inner = prefix + (f"{d.package}." if d.package and d.package != "_here_" else "")
            layer = resolved(d.group, d.option, here, inner)
        for key, value, comment, origin in layer:
            _, old_comment, _ = keys.get(key, ("", "", ""))
            keys[key] = (value, comment or old_comment, origin)
    return [(k, v, c, o) for k, (v, c, o) in keys.items()]


def built_from(group: str, conf: Conf) -> str:
    """What an option builds on, in words with links; '' when it builds on nothing."""
    said = []
    for d in conf.defaults:
        if d.override or d.option == "_self_":
            continue
        if d.group is None:
            said.append(f"inherits every key of {option_link(group, d.option, group)}")
        elif d.package in (None, "_here_"):
            said.append(f"sets the keys of {option_link(d.group, d.option, group)} over them")
        else:
            base = option_link(d.group, d.option, group)
            said.append(f"takes {base} as `{d.package}`" + (f" ({escape_prose(d.comment)})" if d.comment else ""))
    if not said:
        return ""
    return "It " + ", then ".join(said) + ". Every key it ends up with, and the file that sets its default:"


def chooses(conf: Conf) -> str:
    """An experiment's `override /group: option` entries, in words."""
    picked = [f"`{d.group}={d.option}`" for d in conf.defaults if d.override and not d.group.startswith("hydra")]
    return ("Chooses " + ", ".join(picked) + ".") if picked else ""


def with_meanings(rows, conf: Conf):
    """Rows without a comment of their own, in a file that sets keys of other groups (a preset,
    `@package _global_`; a spectrum point, `@package model`), take the key's meaning from the option
    it applies to (the preset's `override /group: option`, or the primary config's default); a swept
    key and a paper reference say what they are."""
    entries = [*parse(CONF / "config.yaml").defaults, *(d for d in conf.defaults if d.override)]
    chosen = {d.group: d.option for d in entries if d.group and not d.group.startswith("hydra")}
    meanings = {}
    for group, option in chosen.items():
        if group in (conf.package, "_global_") or conf.package == "_global_":
            if option not in (None, "null") and (CONF / group / f"{option}.yaml").exists():
                prefix = "" if group == conf.package else f"{group}."
                meanings.update({prefix + k: c for k, _, c, _ in resolved(group, option, group) if c})
    for k, _, _ in rows:
        if k.startswith("hydra.sweeper.params."):
            meanings[k] = f"the values of `{k.removeprefix('hydra.sweeper.params.')}` that `-m` runs"
        elif k.startswith("paper.reference."):
            meanings[k] = "the paper's value for the groups this selector matches"
    return [(k, v, c or meanings.get(k, "")) for k, v, c in rows]


def builds(rows) -> str:
    target = next((r[1] for r in rows if r[0] in ("_target_",)), "")
    return f"Builds `{target}`." if target and target != "null" else ""


def shown(rows):
    """The rows a reader sets: not Hydra's own keys, not hydra.* but the sweeper's settings."""
    return [
        r
        for r in rows
        if not hydra_internal(r[0]) and (not r[0].startswith("hydra") or r[0].startswith("hydra.sweeper."))
    ]


def group_page(group: Path) -> str:
    options = sorted(group.glob("*.yaml"))
    out = [f"# `{group.name}`", "", f"Generated from `conf/{group.name}/` — the comments in those files.", ""]
    out += ["Options: " + ", ".join(f"[`{p.stem}`](#{anchor(p.stem)})" for p in options), ""]
    for path in options:
        conf = parse(path)
        out += [f"## `{group.name}={path.stem}` {{ #{anchor(path.stem)} }}", "", render_header(conf.header), ""]
        inherits = any(d.option != "_self_" and not d.override for d in conf.defaults)
        rows = resolved(group.name, path.stem, group.name) if inherits else conf.rows
        rows = with_meanings(rows, conf) if conf.package and not inherits else rows
        said = " ".join(s for s in (builds(rows), chooses(conf), built_from(group.name, conf)) if s)
        out += [said, ""] if said else []
        if shown(rows):
            out += [table(shown(rows), origin=inherits), ""]
    return "\n".join(out)


def anchor(stem: str) -> str:
    return "option-" + re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")


def index_page() -> str:
    conf = parse(CONF / "config.yaml")
    out = [
        "# Configuration reference",
        "",
        "Generated from `conf/` at every docs build: each meaning below is the comment",
        "beside its key in the YAML file, so this page and the files cannot disagree.",
        "The commands themselves (`sharebench run`, `params`, `list`, `plot`, `report`) are in",
        "[Command line](cli.md).",
        "",
        "An accuracy is typed and printed in percentage points everywhere, options included (`--delta 1`,",
        "`hydra.sweeper.delta=1`, a preset's `paper:` numbers with `unit: points`); a loss keeps its own",
        "units, and records on disk hold fractions: [one unit for accuracy](../guide/compare.md#one-unit-for-accuracy-percentage-points).",
        "",
        "## Config groups",
        "",
        "Choose one option per group with `GROUP=OPTION`; override any key with `KEY=VALUE`.",
        "",
        '<div class="conf-keys" markdown>',
        "",
        "| group | options |",
        "| --- | --- |",
    ]
    out += [
        f"| [`{g.name}`]({g.name}.md) | {', '.join(f'`{p.stem}`' for p in sorted(g.glob('*.yaml')))} |"
        for g in groups()
    ]
    out += ["", "</div>"]
    out += ["", "## Top-level keys (`conf/config.yaml`)", "", render_header(conf.header), ""]
    out += [table([r for r in conf.rows if not r[0].startswith(("hydra", "override")) and r[0] != "_self_"]), ""]
    return "\n".join(out)


def on_files(files, config):
    for uri, text in pages().items():
        files.append(File.generated(config, uri, content=text))
    return files


def pages() -> dict[str, str]:
    """Every generated page, by its path under docs/."""
    out = {"reference/index.md": index_page()}
    for group in groups():
        out[f"reference/{group.name}.md"] = group_page(group)
    return out


def groups() -> list[Path]:
    return sorted(g for g in CONF.iterdir() if g.is_dir() and g.name != "hydra" and any(g.glob("*.yaml")))


def on_config(config):
    """The Reference section of the navigation: the pages written in mkdocs.yml (the configuration
    reference first), then one page per config group, found in conf/."""
    for i, item in enumerate(config["nav"] or []):
        if isinstance(item, dict) and "Reference" in item:
            written = item["Reference"] if isinstance(item["Reference"], list) else [item["Reference"]]
            pages = [{f"{g.name}": f"reference/{g.name}.md"} for g in groups()]
            config["nav"][i] = {"Reference": [*written, *pages]}
    return config
