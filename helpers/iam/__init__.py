"""IAM for the series: policy files, linting, a local evaluator, the live simulator, roles, keys.

Mock and live mode share these functions: each takes boto3 clients as parameters. The local
``evaluate`` and ``lint_policy`` answer in mock mode what ``simulate_*`` and ``validate_policy``
answer in live mode, in the same ``Decision`` and ``Finding`` shapes.
"""

from helpers.iam.credentials import (
    PermanentCredentials,
    TemporaryCredentials,
    assume_role_credentials,
    create_user_with_access_key,
    delete_user,
    key_kind,
    mask_key_id,
)
from helpers.iam.documents import (
    available_policies,
    check_grammar,
    load_policy,
    parse_document,
    policy_json,
    require_valid,
    substitute_names,
)
from helpers.iam.errors import (
    IamHelperError,
    IamStateError,
    PolicyFileError,
    PolicyGrammarError,
    UnsupportedConditionError,
)
from helpers.iam.evaluate import (
    SUPPORTED_CONDITION_OPERATORS,
    Decision,
    MatchedStatement,
    evaluate,
    evaluate_all,
    evaluate_trust,
)
from helpers.iam.explain import (
    decisions_table,
    role_permissions_table,
    role_policies,
    statements_table,
)
from helpers.iam.findings import Finding, findings_table, has_errors
from helpers.iam.lint import lint_policy, parliament_findings, suggest_action
from helpers.iam.roles import (
    BASIC_EXECUTION_POLICY_ARN,
    LAMBDA_SERVICE,
    PolicyResult,
    RoleResult,
    RoleSetup,
    attach_policies,
    delete_policy,
    delete_role,
    ensure_policy,
    ensure_role,
    find_customer_policy,
    setup_lambda_role,
    teardown_lambda_role,
    trust_allows_service,
)
from helpers.iam.simulate import simulate_custom, simulate_principal, validate_policy

__all__ = [
    "BASIC_EXECUTION_POLICY_ARN",
    "LAMBDA_SERVICE",
    "SUPPORTED_CONDITION_OPERATORS",
    "Decision",
    "Finding",
    "IamHelperError",
    "IamStateError",
    "MatchedStatement",
    "PermanentCredentials",
    "PolicyFileError",
    "PolicyGrammarError",
    "PolicyResult",
    "RoleResult",
    "RoleSetup",
    "TemporaryCredentials",
    "UnsupportedConditionError",
    "assume_role_credentials",
    "attach_policies",
    "available_policies",
    "check_grammar",
    "create_user_with_access_key",
    "decisions_table",
    "delete_policy",
    "delete_role",
    "delete_user",
    "ensure_policy",
    "ensure_role",
    "evaluate",
    "evaluate_all",
    "evaluate_trust",
    "find_customer_policy",
    "findings_table",
    "has_errors",
    "key_kind",
    "lint_policy",
    "load_policy",
    "mask_key_id",
    "parliament_findings",
    "parse_document",
    "policy_json",
    "require_valid",
    "role_permissions_table",
    "role_policies",
    "setup_lambda_role",
    "simulate_custom",
    "simulate_principal",
    "statements_table",
    "substitute_names",
    "suggest_action",
    "teardown_lambda_role",
    "trust_allows_service",
    "validate_policy",
]
