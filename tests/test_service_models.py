"""What the series does to spend less CPU on botocore's models and moto's IAM backends changes no
answer: sessions share one loader yet keep their own credentials; the mock account makes one IAM
backend, finds every key's account, and gives each start its own AWS managed policies; its server
reads moto's list of services once, not at every request."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
from moto.iam import models as iam_models

from helpers import service_models
from helpers.config import names_for
from helpers.iam import load_policy
from helpers.mock import MockAccount

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


def test_sessions_share_the_loader_and_keep_their_own_credentials():
    first = service_models.boto3_session(
        aws_access_key_id="AKIAFIRST", aws_secret_access_key="a", region_name="us-east-1"
    )
    second = service_models.boto3_session(
        aws_access_key_id="AKIASECOND", aws_secret_access_key="b", region_name="eu-west-1"
    )
    loaders = {id(s._session.get_component("data_loader")) for s in (first, second)}
    assert loaders == {id(service_models.shared_loader())}
    assert first.get_credentials().access_key == "AKIAFIRST"
    assert second.get_credentials().access_key == "AKIASECOND"
    assert first.client("lambda").meta.region_name == "us-east-1"
    assert second.client("lambda").meta.region_name == "eu-west-1"
    # A plain boto3 session keeps a loader of its own: nothing outside the series is changed.
    assert boto3.Session()._session.get_component("data_loader") is not (
        service_models.shared_loader()
    )


def test_a_service_model_is_parsed_once_and_is_botocores():
    assert service_models.service_model("iam") is service_models.service_model("iam")
    assert "CreateRole" in service_models.service_model("iam").operation_names
    assert service_models.service_model("lambda").protocol == "rest-json"


def _iam_partitions() -> list[str]:
    return [
        partition
        for account in list(iam_models.iam_backends.values())
        for partition in list(dict.keys(account))
    ]


def test_the_account_makes_one_iam_backend_and_still_knows_every_key():
    with MockAccount() as account:
        root = account.session()
        iam = root.client("iam")
        iam.create_user(UserName="ann")
        key = iam.create_access_key(UserName="ann")["AccessKey"]
        ann = boto3.Session(
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
            region_name=account.region,
        )
        sts = ann.client("sts", endpoint_url=account.endpoint_url)
        assert sts.get_caller_identity()["Arn"].endswith(":user/ann")
        root.client("sts").get_caller_identity()
        # moto's lookup made one IAM backend per partition (six) of every account it searched.
        assert _iam_partitions() == ["aws"]


def test_each_account_start_has_every_managed_policy_and_its_own_copies():
    counts = []
    for _ in range(2):
        with MockAccount() as account:
            iam = account.session().client("iam")
            policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
            counts.append(policy["AttachmentCount"])
            trust = load_policy("lambda_trust_policy", names_for("mock"))
            iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
            iam.attach_role_policy(RoleName="r", PolicyArn=BASIC_EXECUTION)
            assert iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]["AttachmentCount"] == 1
            listed = iam.list_policies(Scope="AWS", MaxItems=1000)
            assert listed["IsTruncated"] and len(listed["Policies"]) == 1000
    assert counts == [0, 0]


def test_the_server_does_not_list_motos_package_for_every_request(monkeypatch):
    """Gap 18: moto's server tested each request's host against a fresh listing of its package
    directory (about 0.7 ms of CPU a request); the listing is now read once per process."""
    import moto
    from moto import backends as moto_backends

    package = os.path.dirname(moto.__file__)
    listings: list[str] = []
    real_listdir = os.listdir

    def counting_listdir(path=".", *args, **kwargs):
        if os.fspath(path) == package:
            listings.append(path)
        return real_listdir(path, *args, **kwargs)

    with MockAccount() as account:
        session = account.session()
        iam, s3 = session.client("iam"), session.client("s3")
        iam.list_roles()  # the first requests may read it
        s3.list_buckets()
        monkeypatch.setattr(os, "listdir", counting_listdir)
        for _ in range(5):
            iam.list_roles()
            s3.list_buckets()
        assert listings == []
        served = set(moto_backends.list_of_moto_modules())
    monkeypatch.undo()
    assert served == set(moto_backends.list_of_moto_modules())  # moto's own answer, once stopped
    assert {"iam", "s3", "awslambda", "apigateway"} <= served


def test_moto_in_process_also_makes_one_iam_backend_and_the_same_policies(monkeypatch):
    """Gap 17 holds in moto's own ``mock_aws`` too (no mock account active): a signed request
    looks for its key in the IAM backends that exist, not in one made for each partition, and
    the AWS managed policies are moto's (two backends, two sets of objects)."""
    from moto import mock_aws

    from helpers.mock import moto_patches

    moto_patches.install()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(name, value)
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="ann")
        policy = iam.get_policy(PolicyArn=BASIC_EXECUTION)["Policy"]
        assert policy["AttachmentCount"] == 0 and policy["DefaultVersionId"] == "v1"
        version = iam.get_policy_version(PolicyArn=BASIC_EXECUTION, VersionId="v1")
        assert version["PolicyVersion"]["Document"]["Statement"][0]["Action"] == [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
        ]
        assert _iam_partitions() == ["aws"]
    with mock_aws(config={"iam": {"load_aws_managed_policies": False}}):
        iam = boto3.client("iam", region_name="us-east-1")
        assert iam.list_policies(Scope="AWS")["Policies"] == []


MOTO_API_GATEWAY_ON_FIRST_USE = """
import json, sys
from helpers.mock import MockAccount
from helpers.mock.apigateway import deployments, moto_api

with MockAccount() as account:
    session = account.session()
    session.client("iam").list_roles()
    session.client("lambda").list_functions()
    before = "moto.apigateway.models" in sys.modules or "openapi_spec_validator" in sys.modules
    apigateway = session.client("apigateway")
    api = apigateway.create_rest_api(name="lazy")["id"]
    root = apigateway.get_resources(restApiId=api)["items"][0]["id"]
    apigateway.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigateway.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    deployment = apigateway.create_deployment(restApiId=api, stageName="s")["id"]
    rest_api = moto_api.backend(account.account_id, account.region).apis[api]
    print(json.dumps({"before": before, "snapshot": deployments.deployed(rest_api, deployment) is not None}))
"""


def test_moto_api_gateway_is_imported_on_first_use_and_deployments_are_still_captured():
    """Importing moto's API Gateway costs about 0.2 s of CPU (its OpenAPI validator): an account
    that is never asked about API Gateway does not import it, and one that is still captures
    what each deployment deployed (helpers/mock/apigateway/moto_api.py)."""
    done = subprocess.run(
        [sys.executable, "-c", MOTO_API_GATEWAY_ON_FIRST_USE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"before": False, "snapshot": True}
