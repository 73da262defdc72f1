"""The "where the papers agree and disagree" section, built from verification results (pure).

:func:`agreement_section` turns the JSON of a ``verify`` run into markdown lines: a table
paper × statement (as read from its abstract) × regime tested × measured verdict, one row per
statement, with the verdict and headline taken from the claim that adjudicates it.  Rows whose
claim is absent from the results say so.  No numerics are run here; the report calls this
function after the summary table (``report.render_markdown`` is not restructured).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LiteratureRow", "ROWS", "LITERATURE_CLAIMS", "agreement_section"]


@dataclass(frozen=True, kw_only=True)
class LiteratureRow:
    """One paper statement and the claim that adjudicates it."""

    paper: str
    statement: str
    regime: str
    claim_id: str
    verdict_key: str  # key into the claim's details["paper_verdicts"]
    judged: bool = True  # False: the claim gives context for the statement but does not judge it


ROWS: tuple[LiteratureRow, ...] = (
    LiteratureRow(
        paper="Li & Yan 2405.14861", statement="a 'unique' coefficient design adapts (k²/√T)",
        regime="η_t = 1-α_t fixed, σ_t² varied off the zero set (R_t-1 = cβ_t^p); d ≤ 1e12",
        claim_id="COEF-CLASS", verdict_key="Li & Yan 2405.14861 ('unique')"),
    LiteratureRow(
        paper="Liang, Huang & Chen 2501.12982",
        statement="Ho's / Song's coefficients are '(nearly) necessary' (lower bound)",
        regime="off-curve designs, crossover d* vs exact propagation; T = 100 (quick), 100 and "
               "1000 (full)",
        claim_id="COEF-CLASS", verdict_key="Liang, Huang & Chen 2501.12982 ('nearly necessary')"),
    LiteratureRow(
        paper="Cai, Jiao & Li 2606.23627",
        statement="Õ(k/ε) in TV for a 'broad class' of (η_t, σ_t²)",
        regime="zero set R_t = 1, η_t = λ(1-α_t), λ ∈ {0.75, 1, 1.5, 2} (admissible), d ≤ 1e9",
        claim_id="COEF-CLASS", verdict_key="Cai, Jiao & Li 2606.23627 ('broad class')"),
    LiteratureRow(
        paper="Song et al. 2010.02502 / Liang, Huang & Chen 2501.12982",
        statement="DDIM adapts to k (k/T in TV)",
        regime="DDIM from N(0, I): start-up floor ᾱ_T sqrt(d/4π) against TV_k, d ≤ 1e12",
        claim_id="DDIM-FLOOR", verdict_key="DDIM"),
    LiteratureRow(
        paper="Tang & Yan 2501.18863",
        statement="probability-flow ODE: (k + log d) log³T/T with a special η_t*",
        regime="where DDIM's floor exceeds (k + log d)/T (d_TY); η_t* not read",
        claim_id="DDIM-FLOOR", verdict_key="Tang & Yan", judged=False),
    LiteratureRow(
        paper="Li, Cai & Wei 2504.05300",
        statement="Õ(1/ε) in TV independent of d and of the number of components K",
        regime="k = 1, K = 2..64 equal-sd isotropic components (separated → overlapping)",
        claim_id="GMM-K", verdict_key="Li, Cai & Wei"),
    LiteratureRow(
        paper="Potaptchik, Azangulov & Deligiannidis 2410.09046",
        statement="steps for KL ≤ ε linear in k, and this linear dependence is sharp "
                  "(tensorisation)",
        regime="DDPM-posterior, exact score; products of k rough factors (sd = 1/T), T = 100 "
               "(and 400, full); KL/k over k",
        claim_id="KL-SHARP", verdict_key="Potaptchik et al. (k)"),
    LiteratureRow(
        paper="Potaptchik, Azangulov & Deligiannidis 2410.09046",
        statement="the k/T rate in KL is attained (implicit in reading the bound as sharp in T)",
        regime="same sampler, 1-D rough (sd = 1/T, 0.01) and smooth (sd 0.1) targets, T = 25..800",
        claim_id="KL-SHARP", verdict_key="Potaptchik et al. (T)", judged=False),
)


#: Claims that adjudicate a row; the report adds the section when any of them was run.
LITERATURE_CLAIMS = frozenset(row.claim_id for row in ROWS)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def agreement_section(results: dict[str, Any]) -> list[str]:
    """Markdown lines of the section, from a validated results document.

    Parameters
    ----------
    results : dict
        A ``verify --json`` document (``results["claims"]`` is a list of claim records).

    Returns
    -------
    list of str
        A heading, a sentence on how to read the table, and the table.
    """
    claims = {c["id"]: c for c in results.get("claims", [])}
    lines = ["", "## Where the papers agree and disagree", "",
             "Each statement is quoted from the paper's abstract (theorem numbers and constants "
             "were not readable); the verdict is the adjudicating claim's, with its measured "
             "headline and, where the claim gives one, the sense in which the paper is right.",
             "", "| paper | statement | regime tested | measured verdict |", "|---|---|---|---|"]
    for row in ROWS:
        claim = claims.get(row.claim_id)
        if claim is None:
            verdict = f"{row.claim_id} not in these results"
        else:
            sense = claim["result"].get("details", {}).get("paper_verdicts", {}).get(
                row.verdict_key) or claim["result"]["measured"]
            head = (f"**{claim['verdict']}** ({row.claim_id})" if row.judged else
                    f"not judged (context from {row.claim_id}, verdict {claim['verdict']})")
            verdict = f"{head}: {sense}"
        lines.append(f"| {_cell(row.paper)} | {_cell(row.statement)} | {_cell(row.regime)} | "
                     f"{_cell(verdict)} |")
    return lines
