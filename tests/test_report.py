"""The HTML report: self-contained, escaped, and every image loads in a browser."""

from __future__ import annotations

import os
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
    assert links.refs and all(ref.startswith("data:") for ref in links.refs)
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
    """Debian's Chromium, installed here when it is missing and we may install."""
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            subprocess.run(command, env=env, capture_output=True, timeout=900, check=True)
        except (subprocess.SubprocessError, OSError):
            return None
    return shutil.which("chromium")


CHECK_IMAGES = """
<script>
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const loaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
  const mark = document.createElement("p");
  mark.id = "image-check";
  mark.textContent = "loaded " + loaded + " of " + images.length;
  document.body.appendChild(mark);
});
</script>
"""


def test_every_image_of_the_report_loads_in_headless_chromium(pair, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip(
            "Chromium is not installed and cannot be installed here (needs root and apt-get)"
        )
    page = tmp_path / "report.html"
    assert main(["report", str(pair[1]), "--baseline", str(pair[0]), "--out", str(page)]) == 0
    # The check runs in a copy: the report itself carries no script.
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", CHECK_IMAGES + "</body>"))
    done = subprocess.run(
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
            f"--user-data-dir={tempfile.mkdtemp()}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'id="image-check">loaded (\d+) of (\d+)<', done.stdout)
    assert found, done.stderr[-2000:]
    loaded, total = int(found.group(1)), int(found.group(2))
    assert total >= 4
    assert loaded == total


def test_report_of_a_missing_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert "nope: does not exist" in capsys.readouterr().err


def test_run_without_report(tmp_path):
    scenario = ROOT / "scenarios" / "venezuela_baseline.toml"
    out = tmp_path / "r"
    assert main(["run", str(scenario), "--out", str(out), "--no-report"]) == 0
    assert not (out / "report.html").exists()
    assert flowsim.Results.load(out).replications == 1
