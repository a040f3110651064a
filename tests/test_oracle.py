"""Invalid examples are confirmed by an oracle that is not the validator, and none is discarded.

The invalid strategies keep a draft only when the validator reports its label. A validator that
went blind to a rule on some payloads would make the generator discard those drafts silently, and
every test of the strategies would still pass. Here every draft is judged twice: by the validator
(what the generator asks) and by the oracle in ``oracle.py``; the two must agree on every draft,
and no mutation may have a draft the validator does not confirm.
"""

from __future__ import annotations

import pytest

from aep_export_contracts import CONTRACT_NAMES
from aep_export_contracts.generation import strategies
from aep_export_contracts.generation.builders import RandomSource
from aep_export_contracts.generation.mutations import mutations_for
from aep_export_contracts.generation.strategies import Tally, draft
from oracle import confirms

DRAFTS = 400  # per contract; with a fixed seed, the same drafts every run


@pytest.fixture
def tally(monkeypatch: pytest.MonkeyPatch) -> Tally:
    fresh = Tally()
    monkeypatch.setattr(strategies, "TALLY", fresh)
    return fresh


@pytest.mark.parametrize("contract", CONTRACT_NAMES)
def test_the_oracle_and_the_validator_agree_on_every_draft(contract: str, tally: Tally) -> None:
    src = RandomSource(11)
    disagree = []
    for _ in range(DRAFTS):
        d = draft(contract, src)
        if d.pointer is None:
            continue
        independent = confirms(contract, d.payload, d.mutation.rule, d.pointer, detect=d.mutation.detect)
        if independent != d.confirmed:
            disagree.append((d.mutation.name, d.pointer, "validator" if d.confirmed else "oracle", "alone"))
    assert disagree == []
    rows = {name: row for (c, name), row in tally.rows().items() if c == contract}
    # every mutation was tried, applied at least once, and never discarded for want of a finding
    assert set(rows) == {m.name for m in mutations_for(contract)}
    assert {name for name, row in rows.items() if row["drafts"] == row["not applicable"]} == set()
    assert {name: row["unconfirmed"] for name, row in rows.items() if row["unconfirmed"]} == {}


def test_the_tally_counts_what_the_invalid_strategies_discard(tally: Tally) -> None:
    examples = list(strategies.generate("export-job-request", 50, seed=3, invalid=True))
    counted = tally.rows()
    drafts = sum(row["drafts"] for row in counted.values())
    discarded = sum(row["not applicable"] + row["unconfirmed"] for row in counted.values())
    assert len(examples) == 50 and drafts - discarded == 50
