"""Catch-up: re-create, idempotently, whatever the earlier notebooks made.

Each notebook runs alone in a fresh kernel. In mock mode the account lives in the kernel, so a
notebook late in the series starts with an empty account; in live mode the resources persist
and the same calls find them and change nothing. Either way one call brings the account to the
state the notebook expects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.config import BUILD_DIR
from helpers.session import Account, connect

STEPS = ("model", "role", "function")
"""In series order: the model in S3 (notebook 2), the role (5), the function (6)."""


@dataclass
class CatchUp:
    account: Account
    done: list[tuple[str, str]] = field(default_factory=list)
    role_arn: str = ""

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.done, columns=["step", "result"]).set_index("step")


def model_file():
    """build/admission.rds, trained and saved when it is not there yet."""
    from helpers import r_model

    path = BUILD_DIR / "admission.rds"
    if not path.is_file():
        r_model.train().save(path)
    return path


def catch_up(through: str, account: Account | None = None) -> CatchUp:
    """Bring the account up to and including step ``through`` (one of :data:`STEPS`)."""
    if through not in STEPS:
        raise ValueError(f"unknown step {through!r}; choose one of {', '.join(STEPS)}")
    from helpers import deploy

    state = CatchUp(account or connect())
    wanted = STEPS[: STEPS.index(through) + 1]
    if "model" in wanted:
        uri = deploy.upload_model(state.account, model_file())
        state.done.append(("model", uri))
    if "role" in wanted:
        setup = deploy.setup_role(state.account)
        state.role_arn = setup.role.arn
        state.done.append(("role", setup.role.arn))
    if "function" in wanted:
        from helpers import packaging

        result = deploy.ensure_function(
            state.account, packaging.build_function_zip(), state.role_arn
        )
        state.done.append(("function", f"{result.arn} ({result.action})"))
    return state
