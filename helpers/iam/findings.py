"""One shape for every linter's findings, so a notebook can show them in one table.

The grammar check, parliament and IAM Access Analyzer each report problems differently; turning
them into ``Finding`` rows lets a learner compare what each tool sees on the same policy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

# Grammar-check severities use Access Analyzer's vocabulary; parliament keeps its own
# (CRITICAL, HIGH, MEDIUM, LOW, INFO). ERROR means IAM would reject or misread the policy.
ERROR = "ERROR"
SECURITY_WARNING = "SECURITY_WARNING"
WARNING = "WARNING"
SUGGESTION = "SUGGESTION"

FINDING_COLUMNS = ("source", "issue", "severity", "location", "detail")


@dataclass(frozen=True)
class Finding:
    """A problem found in a policy: which tool, what issue, how bad, where, and what to do."""

    source: str
    issue: str
    severity: str
    location: str
    detail: str

    def __str__(self) -> str:
        return f"[{self.source}] {self.severity} {self.issue} at {self.location}: {self.detail}"


def findings_table(findings: Iterable[Finding]) -> pd.DataFrame:
    """Findings as a DataFrame with columns source, issue, severity, location, detail."""
    import pandas as pd

    return pd.DataFrame([asdict(f) for f in findings], columns=list(FINDING_COLUMNS))


def has_errors(findings: Iterable[Finding]) -> bool:
    """True when any finding is an ERROR, i.e. IAM would reject or misread the policy."""
    return any(f.severity == ERROR for f in findings)
