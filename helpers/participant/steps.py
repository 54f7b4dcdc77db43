"""The series' steps as the notebooks make them, for recording their calls (one function each)."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from typing import Any

FAKE_MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"digest": "sha256:" + "0" * 64},
    "layers": [],
}


def _push_image_stand_in(account: Any) -> None:
    """``docker login`` + ``docker push`` as far as boto3 sees them: the repository, the
    login token and the image manifest (ECR PutImage, which a push ends with)."""
    from helpers import registry

    plan = registry.image_plan(account)
    registry.ensure_repository(account, plan.repository)
    ecr = account.client("ecr")
    ecr.get_authorization_token()
    if registry.manifest_media_type(account, plan) is None:
        ecr.put_image(
            repositoryName=plan.repository,
            imageManifest=json.dumps(FAKE_MANIFEST),
            imageTag=plan.tag,
        )


def series_steps(
    account: Any, lambda_writes_logs: Callable[[str], None] | None = None
) -> list[tuple[str, Callable[[], Any]]]:
    """The series' steps as the notebooks make them, in order, for ``account`` (live mode).

    Each step calls the helpers the notebooks call (catch-up, lessons, schedule, the API and
    its key, the page and CORS, cleanup), so
    the calls recorded are the series' own. Invoking the image function needs the image in a
    local engine, which a recording does not have: invoke's outcome is not checked here, only
    that it was allowed (``DryRun`` checks exactly that). So that reading and deleting the logs
    is recorded too, ``lambda_writes_logs(group)`` stands in for the function writing them
    (with credentials of its own: it is Lambda's call, not the participant's). Calling the
    API's stage and opening the page are not recorded: they are HTTP requests authorized by the
    API key or by the bucket policy, not by the caller's IAM policy.
    """
    from helpers import cleanup, deploy, invoke, least_privilege, packaging, pass_role, schedule
    from helpers import iam as iam_tools
    from helpers import iam_lessons as lessons
    from helpers.plan import _model_stand_in

    names = account.names
    iam = account.client("iam")
    state: dict[str, Any] = {}

    def who_am_i() -> None:
        account.client("sts").get_caller_identity()

    def catch_up_function() -> None:
        # helpers.catchup.catch_up("function"), with plan mode's stand-in for the model file
        # (training R is not needed to know which calls uploading it makes)
        deploy.upload_model(account, _model_stand_in())
        state["role_arn"] = deploy.setup_role(account).role.arn
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])

    def learner_user() -> None:  # notebook 3
        with lessons.learner_access_key(account) as keys:
            iam.list_access_keys(UserName=keys.user_name)
            lessons.attach_user_policies(iam, keys.user_name, ["AWSLambdaFullAccess"])
            lessons.attach_user_policies(iam, keys.user_name, [lessons.LEARNER_POLICY])
        iam.list_attached_user_policies(UserName=names.user_name)
        lessons.policies_today(iam)
        for policy in ("AWSLambda_FullAccess", lessons.LEARNER_POLICY):
            lessons.managed_policy_document(iam, policy)

    def demo_role() -> None:  # notebook 3
        role = iam_tools.ensure_role(
            iam,
            lessons.demo_role_name(names),
            lessons.account_trust_policy(account.account_id),
            description="Notebook 3: temporary credentials demo",
            tags={"project": "serverless-poc"},
        )
        try:
            lessons.assume_when_ready(account.client("sts"), role.arn, "notebook-3")
        finally:
            iam_tools.delete_role(iam, role.name)

    def policy_checks() -> None:  # notebook 4
        least_privilege.ensure_decoy_bucket(account)
        probes = least_privilege.s3_probes(account)
        least_privilege.crosscheck(account, iam_tools.load_policy("serverless_poc", names), probes)

    def role_session() -> None:  # notebook 5
        policy = iam_tools.find_customer_policy(iam, names.policy_name)
        iam.get_policy_version(PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])
        iam.get_role(RoleName=names.role_name)
        iam.list_attached_role_policies(RoleName=names.role_name)
        iam_tools.role_permissions_table(iam, names.role_name)
        least_privilege.role_session(account, names.role_name)

    def untrusted_role() -> None:  # notebook 5
        import botocore.exceptions

        arn = deploy.setup_untrusted_role(account)
        try:
            account.client("lambda").create_function(
                FunctionName=f"{names.function_name}Untrusted",
                Runtime=deploy.RUNTIME,
                Handler=deploy.HANDLER,
                Role=arn,
                Code={"ZipFile": packaging.build_function_zip().read_bytes()},
            )
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "InvalidParameterValueException":
                raise
        finally:
            iam_tools.delete_role(iam, names.untrusted_role)

    def reconfigure() -> None:  # notebook 6
        lam = account.client("lambda")
        memory = lam.get_function_configuration(FunctionName=names.function_name)["MemorySize"]
        lam.update_function_configuration(FunctionName=names.function_name, MemorySize=2 * memory)
        deploy.wait_until_ready(account, names.function_name)
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        pass_role.pass_role_lesson(account, state["role_arn"])

    def rerun_after_a_change() -> None:  # the series was updated mid-workshop, then re-run
        from helpers import registry

        plan = registry.image_plan(account)
        changed = {**FAKE_MANIFEST, "config": {"digest": "sha256:" + "1" * 64}}
        account.client("ecr").put_image(
            repositoryName=plan.repository, imageManifest=json.dumps(changed), imageTag="changed"
        )
        os.environ["SERIES_IMAGE_URI"] = plan.uri.rsplit(":", 1)[0] + ":changed"
        try:  # a new image: UpdateFunctionCode
            deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        finally:
            os.environ.pop("SERIES_IMAGE_URI", None)
        deploy.ensure_function(account, packaging.build_function_zip(), state["role_arn"])
        document = iam_tools.load_policy("serverless_poc", names)
        edited = {**document, "Statement": [{**document["Statement"][0], "Sid": "Changed"}]}
        for version in (edited, document):  # a changed policy: CreatePolicyVersion
            iam_tools.ensure_policy(iam, names.policy_name, version)

    def invoke_and_read_logs() -> None:  # notebooks 6-8
        import botocore.exceptions

        invoke.invoke(account, {"gre": "800"}, invocation_type="DryRun")
        try:  # the image is not in a local engine here: the call is allowed, the run fails
            invoke.invoke(account, {"gre": "800", "gpa": "4", "rank": "1"})
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] in least_privilege.DENIED_CODES:
                raise
        if lambda_writes_logs is not None:
            lambda_writes_logs(names.log_group)
        logs = account.client("logs")
        with contextlib.suppress(logs.exceptions.ResourceNotFoundException):
            logs.describe_log_streams(logGroupName=names.log_group)
        schedule.keep_warm_pings(account)

    def counter_example_without_s3() -> None:  # notebook 7
        arn = deploy.setup_role_without_model_access(account)
        deploy.ensure_function(
            account, packaging.build_function_zip(), arn, function_name=names.no_s3_function
        )
        iam.attach_role_policy(
            RoleName=names.no_s3_role,
            PolicyArn=f"arn:aws:iam::{account.account_id}:policy/{names.policy_name}",
        )
        cleanup.delete_function(account, names.no_s3_function)
        iam_tools.delete_role(iam, names.no_s3_role)

    def keep_warm() -> None:  # notebook 7
        schedule.ensure_keep_warm_schedule(account)
        schedule.resource_policy(account)
        schedule.keep_warm_pings(account)
        cleanup.delete_schedule(account)
        schedule.ensure_keep_warm_schedule(account)  # left for notebook 11 to delete

    def rest_api_with_key() -> None:  # notebook 9
        from helpers.api import access, permission, proxy
        from helpers.api import rest_api as apis

        api = apis.ensure_rest_api(account)
        apis.build_admission_resource(account, api)  # resource, method, integration, responses
        apis.describe(account, api)
        apis.ensure_deployed(account, api)
        granted = access.ensure_access(account, api.api_id, api.stage)
        access.key_value(account, granted.key_id)
        access.plan_table(account, names.usage_plan_name)
        for _ in ("first run", "re-run"):  # the lesson: no permission (500), then granted
            permission.revoke(account)
            permission.allow_api_gateway(account, api.api_id)
        permission.api_gateway_statements(account)
        demo = access.ensure_demo_access(account, api.api_id, api.stage)  # the 429 demo
        access.key_value(account, demo.key_id)
        removed = cleanup.delete_resources(
            account,
            [("usage plan", names.demo_usage_plan_name), ("API key", names.demo_api_key_name)],
        )
        if set(removed["result"]) != {"deleted"}:
            raise RuntimeError(f"notebook 9 could not delete its demo plan:\n{removed}")
        proxy.build_proxy_resource(account, api)
        apis.ensure_deployed(account, api)
        apis.describe(account, api)
        permission.revoke(account, permission.PROXY_STATEMENT_ID)  # the proxy without it

    def page_and_cors() -> None:  # notebook 10
        from helpers import api, cors, web_page

        admission = api.ensure_admission_api(account)  # its catch-up cell
        key = api.access.key_value(account, admission.access.key_id)
        web_page.publish(account, admission.url, key)
        cors.disable_cors(account, admission.api_id)  # the browser is refused
        cors.enable_cors(account, admission.api_id)
        cors.cors_summary(account, admission.api_id)
        cors.enable_cors(account, admission.api_id, error_responses=False)  # 2017's mistake
        cors.enable_cors(account, admission.api_id)
        cors.enable_cors(account, admission.api_id, "/" + api.proxy.PROXY_PATH)

    def clean_up() -> None:  # notebook 11
        cleanup.inventory(account)
        cleanup.not_ours(account)
        deleted = cleanup.delete_everything(account)
        failed = deleted[deleted["result"].str.startswith(("failed", "skipped"))]
        if len(failed):
            raise RuntimeError(f"cleanup did not delete everything:\n{failed.to_string()}")
        left = cleanup.inventory(account)  # the API, its keys and plans, the site bucket too
        if len(left):
            raise RuntimeError(f"cleanup left resources behind:\n{left.to_string()}")

    return [
        ("who am I (notebook 1)", who_am_i),
        ("the image in ECR (docker push, notebook 6)", lambda: _push_image_stand_in(account)),
        ("catch up: model, role, function (notebooks 2, 5, 6)", catch_up_function),
        ("the learner user and its key (notebook 3)", learner_user),
        ("the demo role, assumed (notebook 3)", demo_role),
        ("the decoy bucket and the scratch user (notebook 4)", policy_checks),
        ("the role's own session (notebook 5)", role_session),
        ("a role Lambda cannot assume (notebook 5)", untrusted_role),
        ("configuration changes and iam:PassRole (notebook 6)", reconfigure),
        ("a re-run after the series changed (new image, changed policy)", rerun_after_a_change),
        ("invoking and reading the logs (notebooks 6-8)", invoke_and_read_logs),
        ("the role without the model (notebook 7)", counter_example_without_s3),
        ("the keep-warm schedule (notebook 7)", keep_warm),
        ("the REST API, its key, usage plans and permission (notebook 9)", rest_api_with_key),
        ("the page on S3 website hosting, and CORS (notebook 10)", page_and_cors),
        ("cleanup (notebook 11)", clean_up),
    ]
