"""bench/run's report: a partial run (--only) replaces its own sections and keeps the others."""
from bench import run


def test_a_partial_run_keeps_the_other_sections(tmp_path):
    page = tmp_path / "performance.md"
    run._write(page, "## Latest run\n\n### api_contacts (old)\n\nold API table\n\n### soak (old)\n\nsoak table\n")
    page.write_text(page.read_text().replace("# Performance", "# Performance\n\nHow to reproduce."))
    sections = run._sections(page)
    assert sections == {"api_contacts": "### api_contacts (old)\n\nold API table\n", "soak": "### soak (old)\n\nsoak table\n"}
    sections["api_contacts"] = "### api_contacts (new)\n\nnew API table\n"
    run._write(page, "\n".join(sections[name] for name in run.BENCHMARKS if name in sections))
    text = page.read_text()
    assert "How to reproduce." in text and "new API table" in text and "soak table" in text
    assert "old API table" not in text and text.count(run.MARKER) == 1
