"""The "Your turn" exercises of notebooks 3 to 9: checks that judge the learner's own result.

Each exercise in a notebook is four cells: the task (markdown), an attempt the learner edits
(it starts as a placeholder), a solution (tagged ``solution``) and a check (tagged
``exercise-check``) that calls one function here. A check looks at the learner's variable, or at
the resource the learner changed in the account, and raises :class:`ExerciseNotDone` with a
message that says what to fix — never a traceback from deep inside a helper — so an untouched,
malformed or wrong attempt is a teaching moment. On success it returns a sentence to print.

``python -m helpers.exercises --learner build/learner`` (``make learner``) writes learner copies
of the notebooks: solution cells replaced by a note, outputs cleared.
"""

from helpers.exercises.api import check_proxy_permission
from helpers.exercises.core import (
    CHECK_TAG,
    LIVE_SETTLE_S,
    REMOVED_SOLUTION,
    SOLUTION_TAG,
    TEST_EVENT,
    TRAFFIC_PROFILE,
    ExerciseNotDone,
    _decide,
    policy_document,
    require_attempt,
    show_messages_plainly,
)
from helpers.exercises.cost import check_traffic_profile
from helpers.exercises.function import (
    _until,
    check_memory_doubled,
    check_role_repaired,
    undo_role_repair,
)
from helpers.exercises.learner import learner_copy, main, write_learner_copies
from helpers.exercises.page import check_page_origin
from helpers.exercises.policies import (
    check_fixed_policy,
    check_list_functions_policy,
    check_logs_policy,
    log_group_arn,
)

__all__ = [
    "CHECK_TAG",
    "LIVE_SETTLE_S",
    "REMOVED_SOLUTION",
    "SOLUTION_TAG",
    "TEST_EVENT",
    "TRAFFIC_PROFILE",
    "ExerciseNotDone",
    "_decide",
    "_until",
    "check_fixed_policy",
    "check_list_functions_policy",
    "check_logs_policy",
    "check_memory_doubled",
    "check_page_origin",
    "check_proxy_permission",
    "check_role_repaired",
    "check_traffic_profile",
    "learner_copy",
    "log_group_arn",
    "main",
    "policy_document",
    "require_attempt",
    "show_messages_plainly",
    "undo_role_repair",
    "write_learner_copies",
]
