"""The repository is self-contained: nothing outside ``docs/`` points to a document that is not
in the repository, and every ``docs/theory.md`` citation (section or anchor) exists.

Forbidden markers are assembled from pieces so that this file does not match itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from theorycheck.claims import default_registry

ROOT = Path(__file__).resolve().parents[2]
THEORY_DOC = ROOT / "docs" / "theory.md"

#: References to documents outside the repository (matched case-insensitively).
_OUTSIDE = [
    re.escape("../" + "shared"),
    re.escape("shared/" + "THEORY"),
    "THEORY" + r"(?:\.md)? ?(?:§|\\u00a7)",
    "THEORY" + r"\.md",
    "seed" + r"[ -]talk",
    re.escape("seeds" + "/"),
    r"\b0\d\d_[0-9a-f]{16}\.txt\b",
]
FORBIDDEN = re.compile("|".join(_OUTSIDE), re.IGNORECASE)
# The upper-case markers are matched case-sensitively, so the repository's docs/theory.md passes.
_CASE_SENSITIVE = re.compile("THEORY" + r"(?:\.md)? ?(?:§|\\u00a7)|" + "THEORY" + r"\.md")

#: ``docs/theory.md §4``, ``docs/theory.md §4.1``, ``docs/theory.md §4-§6``, ``... §4 and §7``.
SECTION_CITATION = re.compile(r"docs/theory\.md ((?:§\d+(?:\.\d+)?)(?:\s*(?:-|–|,|and|&)\s*§\d+"
                              r"(?:\.\d+)?)*)")
ANCHOR_CITATION = re.compile(r"docs/theory\.md#([a-z0-9-]+)")


@cache
def _tracked_files() -> tuple[Path, ...]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the tracked-file list is unavailable")
    listing = subprocess.run(["git", "-C", str(ROOT), "ls-files"], check=True,
                             capture_output=True, text=True).stdout
    return tuple(ROOT / name for name in listing.splitlines() if name)


def _text_files_outside_docs() -> list[tuple[str, str]]:
    out = []
    for path in _tracked_files():
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("docs/") or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # figures and other binary files
            continue
        out.append((rel, text.replace("\\u00a7", "§")))
    return out


def _sections() -> set[str]:
    """Section numbers of docs/theory.md: ``## 4.`` gives "4", ``### 4.1`` gives "4.1"."""
    numbers = set()
    for line in THEORY_DOC.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#{2,4} (\d+(?:\.\d+)?)\.? ", line)
        if m:
            numbers.add(m.group(1))
    return numbers


def _anchors() -> set[str]:
    """Explicit ``<a id="...">`` anchors and GitHub's heading slugs."""
    text = THEORY_DOC.read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    for heading in re.findall(r"^#{1,4} (.+)$", text, flags=re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors


def _hits(pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for rel, text in _text_files_outside_docs():
        for number, line in enumerate(text.splitlines(), 1):
            for m in pattern.finditer(line):
                if FORBIDDEN is pattern and _is_lowercase_theory(m.group(0)):
                    continue
                hits.append(f"{rel}:{number}: {line.strip()[:120]}")
    return hits


def _is_lowercase_theory(match: str) -> bool:
    """``docs/theory.md`` is the repository's own document, not the upper-case outside one."""
    return "theory" in match.lower() and _CASE_SENSITIVE.search(match) is None


def test_no_reference_to_documents_outside_the_repository() -> None:
    hits = _hits(FORBIDDEN)
    assert not hits, ("references to documents outside the repository (cite docs/theory.md or a "
                      "paper and equation instead):\n" + "\n".join(hits))


def test_theory_doc_has_sections_one_to_nine() -> None:
    assert {str(n) for n in range(1, 10)} <= _sections()


def test_every_cited_section_exists() -> None:
    sections = _sections()
    missing = []
    for rel, text in _text_files_outside_docs():
        for number, line in enumerate(text.splitlines(), 1):
            for m in SECTION_CITATION.finditer(line):
                for cited in re.findall(r"§(\d+(?:\.\d+)?)", m.group(1)):
                    if cited not in sections:
                        missing.append(f"{rel}:{number}: §{cited}")
    assert not missing, "docs/theory.md has no such section:\n" + "\n".join(missing)


def test_every_cited_anchor_exists() -> None:
    anchors = _anchors()
    missing = [f"{rel}: #{anchor}" for rel, text in _text_files_outside_docs()
               for anchor in ANCHOR_CITATION.findall(text) if anchor not in anchors]
    assert not missing, "docs/theory.md has no such anchor:\n" + "\n".join(missing)


def test_every_registered_claim_has_an_entry() -> None:
    anchors = _anchors()
    registry = default_registry()
    for claim_id in registry.ids():
        docs = registry.get(claim_id).docs
        assert docs == f"docs/theory.md#{claim_id.lower()}"
        assert docs.split("#", 1)[1] in anchors, f"{claim_id}: no entry {docs} in docs/theory.md"


def test_checks_detect_what_they_look_for() -> None:
    # Negative controls of the scanners themselves: each must flag its bad example.
    assert FORBIDDEN.search("see ../" + "shared/THEORY.md")
    assert FORBIDDEN.search("(" + "THEORY" + " §4)")
    assert FORBIDDEN.search("Seed" + "-talk schedule")
    assert not _is_lowercase_theory("THEORY" + " §4")
    assert _is_lowercase_theory("theory.md")  # the repository's docs/theory.md is fine
    assert "99" not in _sections()
    assert SECTION_CITATION.search("docs/theory.md §4-§6 and more").group(1) == "§4-§6"
    assert "no-such-anchor" not in _anchors()
