"""The HTML report: self-contained, escaped, and every image loads in a browser."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from networks import chain, node, route, run

import flowsim
from flowsim.cli import main
from flowsim.report import render_report

ROOT = Path(__file__).parents[1]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.images = 0
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        self.images += tag == "img"
        self.scripts += tag == "script"
        self.refs += [value or "" for name, value in attrs if name in ("src", "href")]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    base, sanctioned = folder / "base", folder / "sanctions"
    for scenario, out in (("venezuela_baseline", base), ("venezuela_sanctions", sanctioned)):
        path = ROOT / "scenarios" / f"{scenario}.toml"
        assert (
            main(
                [
                    "run",
                    str(path),
                    "--seed",
                    "1",
                    "--replications",
                    "2",
                    "--no-baseline",
                    "--no-figures",
                    "--out",
                    str(out),
                ]
            )
            == 0
        )
    return base, sanctioned


def test_run_writes_a_report_into_the_run_folder(pair):
    assert (pair[1] / "report.html").is_file()


def test_report_with_baseline_embeds_figures_and_loads_nothing_from_the_network(pair, tmp_path):
    out = tmp_path / "report.html"
    assert main(["report", str(pair[1]), "--baseline", str(pair[0]), "--out", str(out)]) == 0
    text = out.read_text()
    links = Links()
    links.feed(text)
    assert links.images >= 4
    assert links.scripts == 0
    # Embedded data, or a link to a place in the page itself (a cited source's row).
    assert links.refs and all(ref.startswith(("data:", "#")) for ref in links.refs)
    for ref in links.refs:
        if ref.startswith("#"):
            assert f'id="{ref[1:]}"' in text, f"{ref} leads nowhere in the page"
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    headings = ["Key findings", "Exports by partner", "Policies", "Sources", "mass balance"]
    for heading in [*headings, "Manifest"]:
        assert heading in text
    positions = [text.index(h) for h in headings]
    assert positions[0] == min(positions), "the findings come first"
    assert "eo13850_gold_sector" in text and "2018-11-01" in text
    assert "Assumption" in text


def test_every_scenario_string_is_escaped():
    data = chain(days=20)
    data["meta"]["description"] = "<script>alert(1)</script> & <b>bold</b>"
    data["meta"]["sources"] = ['<img src="http://example.invalid/x.png">']
    data["nodes"]["partner"]["name"] = "<i>partner</i>"
    data["nodes"]["p2"] = node("partner")
    data["routes"]["buyer_p2"] = route("buyer", "p2")
    page = render_report(run(data))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="http' not in page


def chromium() -> str | None:
    """A Chromium on the PATH; `make test` installs Debian's where it can."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


NO_CHROMIUM = (
    "no Chromium on the PATH: `make test` installs Debian's chromium where it runs as root "
    "with apt-get; elsewhere install chromium to run this test"
)

# Run in a copy of the report (the report itself carries no script): it writes what a
# reader would see into one element that --dump-dom prints.
CHECK_PAGE = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  const headings = Array.from(document.querySelectorAll("h2")).map((h) => h.textContent);
  const boxes = document.querySelectorAll("h1, h2, h3, p, li, td, th, figcaption, img");
  const overflowing = Array.from(boxes)
    .filter((e) => e.scrollWidth > e.clientWidth + 1 && e.tagName !== "IMG"
      || e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .map((e) => e.tagName + ": " + e.textContent.slice(0, 60));
  const mark = document.createElement("pre");
  mark.id = "page-check";
  mark.textContent = JSON.stringify({
    loaded: loaded, images: images.length, first: headings[0] || null,
    overflowing: overflowing, page: document.documentElement.scrollWidth,
    window: document.documentElement.clientWidth,
  });
  document.body.appendChild(mark);
});
</script>
"""


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--window-size=1280,1000",
            "--virtual-time-budget=10000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def shipped_comparison(tmp_path_factory) -> Path:
    """The report `make run` writes, against its baseline, with two replications."""
    folder = tmp_path_factory.mktemp("shipped")
    out = folder / "venezuela_sanctions"
    scenario = ROOT / "scenarios" / "venezuela_sanctions.toml"
    argv = ["run", str(scenario), "--seed", "1", "--replications", "2", "--no-figures"]
    assert main([*argv, "--out", str(out)]) == 0
    return out / "report.html"


def test_the_shipped_comparison_reads_right_in_headless_chromium(shipped_comparison, tmp_path):
    """As a person would see it, at a laptop's width: every image loads, the key
    findings come first, and no text overflows its box or the page. The full-page
    screenshot is written beside the test's files, never into the repository."""
    browser = chromium()
    if browser is None:
        pytest.skip(NO_CHROMIUM)
    text = shipped_comparison.read_text()
    assert "Against venezuela_baseline, total exports" in text
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", CHECK_PAGE + "</body>"))
    done = _chromium(browser, "--dump-dom", probe.as_uri())
    found = re.search(r'id="page-check">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    check = json.loads(html.unescape(found.group(1)))
    assert check["images"] >= 9 and check["loaded"] == check["images"]
    assert check["first"] == "Key findings"
    assert check["overflowing"] == []
    assert check["page"] <= check["window"]
    shot = tmp_path / "report.png"
    height = 1000 + 40 * text.count("<tr>") + 600 * check["images"]
    _chromium(browser, f"--window-size=1280,{height}", f"--screenshot={shot}", probe.as_uri())
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 100_000


def test_report_of_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "nope: does not exist" in capsys.readouterr().err


def test_run_without_report(tmp_path):
    scenario = ROOT / "scenarios" / "venezuela_baseline.toml"
    out = tmp_path / "r"
    assert main(["run", str(scenario), "--out", str(out), "--no-report"]) == 0
    assert not (out / "report.html").exists()
    assert flowsim.Results.load(out).replications == 1
