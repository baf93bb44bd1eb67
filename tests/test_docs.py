"""The docs site builds with --strict (a broken link, anchor or included table fails), the
configuration reference says what conf/ says (every comment on its own key, visible, inherited keys
listed), and the README stays a short front page whose links lead into the site."""

import html
import importlib.util
import re
import subprocess
import sys
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")


@pytest.mark.slow  # tens of seconds: .ci/run runs it after the README's test command
@pytest.mark.skipif(not MKDOCS.exists(), reason="mkdocs is not installed: pip install -e '.[docs]'")
def test_docs_build_strict(tmp_path):
    done = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        env={
            "PATH": str(MKDOCS.parent),
            "NO_MKDOCS_2_WARNING": "1",
            "HOME": str(tmp_path),
            "SHAREBENCH_DATA": str(tmp_path),
        },
    )
    assert done.returncode == 0, done.stderr[-4000:]
    site = tmp_path / "site"
    # the reference is generated from conf/: one page per config group, each option a section
    for group in (REPO / "conf").iterdir():
        if group.is_dir() and group.name != "hydra" and any(group.glob("*.yaml")):
            html = (site / "reference" / group.name / "index.html").read_text()
            for option in group.glob("*.yaml"):
                assert f"{group.name}={option.stem}" in html, (group.name, option.stem)
    # a command example marked in a page was run at build time, not left as a marker
    html = (site / "guide" / "run" / "index.html").read_text()
    assert "output:" not in html and "unknown optim" in html
    # the Python page's example ran at build time, and its reference comes from the docstrings
    html = (site / "guide" / "python" / "index.html").read_text()
    assert "output:" not in html and "It prints" in html and "final_test_acc_mean" in html
    assert "sharebench.api.run" in html and "Train one run as" in html and "Parts" in html
    # the command-line page holds every subcommand's help, run at build time
    from sharebench.cli import build_parser

    cli = (REPO / "docs" / "reference" / "cli.md").read_text()
    subcommands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in subcommands:
        assert f"<!-- output: sharebench {name} --help -->" in cli or f"<!-- output: sharebench {name} -->" in cli, name
    html = (site / "reference" / "cli" / "index.html").read_text()
    assert "output:" not in html and "usage: sharebench report" in html and "== Config groups" in html
    # every page in the navigation, "How it is built" too (a section's index page would hide its title)
    nav = re.findall(r'<span class="md-ellipsis">\s*(.*?)\s*</span>', (site / "index.html").read_text(), re.DOTALL)
    assert {"How it is built", "Change recipes", "Command line", "References", "Performance notes"} <= set(nav)
    for page in (REPO / "docs" / "results").glob("[!i]*.md"):  # a result under its title, not its file name
        heading = page.read_text().splitlines()[0].removeprefix("# ")
        assert heading in {unescape(n) for n in nav} and page.stem not in nav, (page.stem, heading)
    # the Performance page: every goal met or not, every table measured (no nan, no None, no stand-in)
    performance = (site / "performance" / "index.html").read_text()
    assert "<th>met</th>" in performance and "not measured" not in performance.lower()
    assert not re.search(r"<td>(nan|None)</td>", performance)
    # a numbered step after a nested list and its paragraph is still a step of its own
    recipes = (site / "contributing" / "recipes" / "index.html").read_text()
    assert re.search(r"<li>\s*<p><strong>Tests</strong>", recipes) and "4. <strong>Tests" not in recipes
    # the reference's keys sit in a block whose stylesheet rule keeps each key on one line
    assert '<div class="conf-keys">' in (site / "reference" / "model" / "index.html").read_text()
    css = (site / "stylesheets" / "extra.css").read_text()
    assert ".md-typeset pre > code { white-space: pre-wrap;" in css  # code blocks wrap, nothing is cut
    assert re.search(r"\.conf-keys td:first-child code,[^}]*\{ white-space: nowrap; \}", css)


def test_readme_is_a_short_front_page():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", text)
    assert links, "the README links into the docs"
    for link in links:
        assert (REPO / link).exists(), link


# --- the configuration reference (docs/hooks/reference.py), read as Markdown and as rendered text ---


@pytest.fixture(scope="module")
def hook():
    pytest.importorskip("mkdocs", reason="the docs hooks import mkdocs: pip install -e '.[docs]'")
    spec = importlib.util.spec_from_file_location("reference_hook", REPO / "docs" / "hooks" / "reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pages(hook):
    return hook.pages()


def render(markdown_text: str) -> str:
    import markdown

    return markdown.markdown(markdown_text, extensions=["tables", "md_in_html", "attr_list", "fenced_code"])


def visible(markdown_text: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", render(markdown_text)))


def section(page: str, option: str) -> str:
    """One option's section of a group page: from its heading to the next."""
    start = page.index(f"## `{option}`")
    end = page.find("\n## ", start + 1)
    return page[start : end if end > 0 else None]


def rows(text: str) -> dict[str, list[str]]:
    """The table rows of a section, by key: {key: [default, (set in,) meaning]}."""
    found = {}
    for line in text.splitlines():
        m = re.match(r"^\| `([^`]+)` \|(.*)\|$", line)
        if m:
            found[m[1]] = [c.strip() for c in re.split(r"(?<!\\)\|", m[2])]
    return found


def test_reference_placeholders_are_escaped_and_visible(pages):
    index = visible(pages["reference/index.md"])
    assert "resume=<run dir>: continue that run" in index
    assert "experiment=<preset in conf/experiment/>" in index
    assert "test_acc_shift<k>" in index

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = set()

        def handle_starttag(self, tag, attrs):
            self.tags.add(tag)

    allowed = set("h1 h2 p div table thead tbody tr th td code span wbr a pre em strong".split())
    for uri, text in pages.items():
        parser = Tags()
        parser.feed(render(text))
        # a comment's <run dir>, <sweep dir>, <class> … would come out as an unknown HTML tag, unseen
        assert parser.tags <= allowed, (uri, parser.tags - allowed)
    assert "sharebench report <sweep dir>" in visible(pages["reference/experiment.md"])
    assert "results/runs/<date>/<run>" in visible(pages["reference/model.md"])


def test_reference_defaults_read_as_in_the_file(pages):
    """A default is the file's text, character for character, though a long sweep list may wrap."""
    text = (REPO / "conf" / "experiment" / "sharing_spectrum.yaml").read_text()
    swept = re.search(r"^\s+spectrum: (.+)$", text, re.MULTILINE)[1]
    cells = rows(section(pages["reference/experiment.md"], "experiment=sharing_spectrum"))
    assert visible(cells["hydra.sweeper.params.spectrum"][0]) == swept
    assert "<wbr>" in cells["hydra.sweeper.params.spectrum"][0]  # it may break after a comma
    assert visible(rows(section(pages["reference/dataset.md"], "dataset=mnist1d"))["subset_seed"][0]) == "${seed}"


def test_reference_lists_no_hydra_internal_rows(pages):
    for uri, text in pages.items():
        for key in rows(text):
            assert not re.search(r"(^|\.)_\w+_($|\.)", key), (uri, key)  # _target_, _recursive_, …
            assert "@" not in key and not key.startswith(("/", "defaults")), (uri, key)
    # what _target_ says is said in words
    assert "Builds `sharebench.models.cnn.ConvNet`." in section(pages["reference/model.md"], "model=local_cnn")


def test_reference_puts_each_comment_on_its_own_key(pages):
    shared = rows(section(pages["reference/model.md"], "model=shared_cnn"))
    assert "kernel size" in shared["kernel_size"][-1]
    assert "kernel" not in shared["stride"][-1] and "stride" in shared["stride"][-1]
    assert shared["padding"][-1] and shared["dilation"][-1]
    assert all(cells[-1] for cells in shared.values()), shared  # every key of the base CNN says what it is
    # every key of every page says what it is: its own comment, or the key's meaning where it is defined
    for uri, text in pages.items():
        assert all(cells[-1] for cells in rows(text).values()), uri
    preset = rows(section(pages["reference/experiment.md"], "experiment=dynamic_net_noise_regression"))
    trainer = rows(section(pages["reference/trainer.md"], "trainer=default"))
    assert preset["trainer.eval_every"][-1] == trainer["eval_every"][-1]
    # a comment on the lines above a key belongs to that key (the paper references of a preset)
    benchmark = rows(section(pages["reference/experiment.md"], "experiment=mnist1d_benchmark"))
    assert "test accuracies" in benchmark["paper"][-1]


def test_reference_shows_the_keys_an_option_inherits(pages):
    model = pages["reference/model.md"]
    local = section(model, "model=local_cnn")
    assert "inherits every key of [`shared_cnn`](#option-shared-cnn)" in local
    local_rows, shared_rows = rows(local), rows(section(model, "model=shared_cnn"))
    assert set(shared_rows) <= set(local_rows)
    default, origin, meaning = local_rows["layer"]
    assert visible(default) == "local" and "spectrum=local" in origin and meaning == shared_rows["layer"][-1]
    assert visible(local_rows["kernel_size"][0]) == "3"
    assert local_rows["kernel_size"][1] == "[`shared_cnn`](#option-shared-cnn)"
    # two levels down, and a base net under its own key
    assert visible(rows(section(model, "model=mnist1d_local_cnn"))["kernel_size"][0]) == "[5, 3, 3]"
    assert "base.channels" in rows(section(model, "model=tied_pair"))


def test_reference_pairs_comments_with_keys(hook, tmp_path):
    path = tmp_path / "option.yaml"
    path.write_text(
        "# The option.\n"
        "a: 1        # about a,\n"
        "            # continued\n"
        "b: 2\n"
        "# about c, on the line above it\n"
        "c: 3\n"
        "\n"
        "# a section comment, a blank line away from any key\n"
        "\n"
        "d:\n"
        "  e: 4      # about d.e\n"
        "  # about d.f\n"
        "  f: 5\n"
    )
    conf = hook.parse(path)
    assert conf.header == ["The option."]
    assert {k: c for k, _, c in conf.rows} == {
        "a": "about a, continued",
        "b": "",
        "c": "about c, on the line above it",
        "d.e": "about d.e",
        "d.f": "about d.f",
    }


# --- references: the source posts and the papers, each named once and linked wherever cited ---


def prose(text: str) -> str:
    """A page without its code (fenced blocks, inline spans) and without the text of links into the
    References page: what is left names a post or a paper without linking it."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.sub(r"\[[^\]]*\]\((?:\.\./)*(?:docs/)?references\.md#[\w-]+\)", "", text)


def docs_pages():
    """Every hand-written page whose prose these checks read: docs/ (not the generated results, not the
    References page itself) and the README outside its generated headline block."""
    pages = {p: p.read_text() for p in (REPO / "docs").rglob("*.md") if "results" not in p.parts}
    pages.pop(REPO / "docs" / "references.md")
    readme = (REPO / "README.md").read_text()
    pages[REPO / "README.md"] = re.sub(r"<!-- headline: begin.*?<!-- headline: end -->", "", readme, flags=re.DOTALL)
    return pages


def reference_entries() -> dict[str, str]:
    """{anchor: its section} of every entry of docs/references.md."""
    text = (REPO / "docs" / "references.md").read_text()
    parts = re.split(r"^### ", text, flags=re.MULTILINE)[1:]
    return {re.search(r"\{ #([\w-]+) \}", part)[1]: part for part in parts}


def test_references_page_describes_the_posts_and_links_every_paper():
    entries = reference_entries()
    for post in ("post-sharing", "post-cnn", "post-tying"):
        assert "shared/seeds/" in entries[post] and "**In sharebench**" in entries[post], post
    papers = ["elsayed2020", "pogodin2021", "dascoli2019", "ott2020", "le2010", "lasserre2006", "greydanus2020"]
    for key in [*papers, "goodfellow2016"]:
        assert re.search(r"\]\(https://[^)]+\)", entries[key]), key  # a link to the paper itself
    seeds = REPO.parent / "shared" / "seeds"
    if seeds.is_dir():  # every source post is described, by its file name
        for post in seeds.glob("*.txt"):
            assert any(post.name in entry for entry in entries.values()), post.name


def test_no_page_mentions_a_source_post_without_linking_it():
    for path, text in docs_pages().items():
        assert not re.search(r"source posts?\b", prose(text)), path


def test_every_paper_is_linked_where_it_is_cited():
    text = (REPO / "docs" / "references.md").read_text()
    cited = re.findall(r"^### (\S+)[^{\n]*?(\d{4}) \{ #(\w+) \}$", text, flags=re.MULTILINE)
    assert len(cited) >= 8
    for path, page in docs_pages().items():
        left = prose(page)
        for name, year, key in cited:
            cite = re.search(rf"(?<![\w']){re.escape(name)}\b[^;()\n]{{0,40}}?\b{year}\b", left)
            assert not cite, f"{path.relative_to(REPO)} cites {cite[0]!r} unlinked: link it to references.md#{key}"
        assert "MNIST-1D paper" not in left or path.name == "compare.md", path


def test_reference_pages_link_the_papers_their_comments_cite(pages):
    model = pages["reference/model.md"]
    for key in ("elsayed2020", "pogodin2021", "dascoli2019", "ott2020", "le2010", "lasserre2006", "greydanus2020"):
        assert f"](../references.md#{key})" in model, key
    assert "](../references.md#post-sharing)" in section(model, "model=shared_cnn")


MEASURED = re.compile(
    r"\d+\.\d+\s*%"  # 93.0%
    r"|\d+(\.\d+)?\s*[–-]\s*\d+(\.\d+)?\s*%"  # 93–95%
    r"|\d\.\d+\s*(→|->)\s*\d"  # 0.89 → 0.85
    r"|≈\s*\d"  # ≈ 8
    r"|\d+(\.\d+)?\s*×\s*(faster|slower)"  # 2.3× faster
    r"|\bpass(es)? \d+%"  # pass 95%
    r"|\bSNR \d"
)


def comment_blocks(path: Path):
    """Runs of comment text in a conf file (a trailing comment and its continuation lines, or
    consecutive comment lines), with the line each starts on."""
    block, start = [], 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        comment = line.split(" #", 1)[1] if " #" in line else line[1:] if line.startswith("#") else None
        if comment is None or (not line.lstrip().startswith("#") and block):
            if block:
                yield start, " ".join(block)
            block, start = ([comment], number) if comment is not None else ([], 0)
            continue
        block, start = block + [comment], start or number
    if block:
        yield start, " ".join(block)


def test_conf_comments_quote_no_measured_number():
    """A number we measured lives in the records and the results pages they regenerate; a comment in
    conf/ points there. A paper's numbers (quoted as `paper: …`, or the authors' own runs: `their …`)
    are inputs, not measurements, and may be quoted."""
    for path in sorted((REPO / "conf").rglob("*.yaml")):
        for line, text in comment_blocks(path):
            for sentence in re.split(r"(?<=\.)\s+", text):
                if re.search(r"\bpaper:|\btheir\b|\bthe paper reports\b", sentence):
                    continue
                found = MEASURED.search(sentence)
                assert not found, f"{path.relative_to(REPO)}:{line}: {found[0]!r} in {sentence!r}"


def test_gpu_pages_say_what_has_run_on_a_gpu():
    gpu = (REPO / "docs" / "gpu.md").read_text()
    assert "table above" not in gpu and "table below" not in gpu  # the check's file is a table only after a GPU run
    if (REPO / "results" / "gpu" / "gpu_check.md").read_text().startswith("No GPU run has been made yet"):
        assert "No GPU run has been made yet" in (REPO / "docs" / "clusters.md").read_text()
