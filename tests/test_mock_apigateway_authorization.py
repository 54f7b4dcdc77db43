"""API Gateway and S3 Block Public Access are authorized as AWS does (helpers/mock/apigateway/
authorization.py, helpers/mock/authorization.py, hooked in helpers/mock/apigateway/moto_patches.py
and helpers/mock/moto_patches.py).

AWS authorizes an API Gateway management call as its HTTP verb (``apigateway:GET``, ``POST``,
``PUT``, ``PATCH``, ``DELETE``) on the ARN of the path it requests
(``arn:aws:apigateway:REGION::/restapis/ID/...``), with the item's tags as
``aws:ResourceTag/KEY`` (a REST API's children inherit its tags, a usage plan's keys the plan's)
and a create's tags as ``aws:RequestTag/KEY``. A bucket's Block Public Access is
``s3:PutBucketPublicAccessBlock``/``Get…``/``Delete…``. Each test gives an IAM user exactly one
policy and checks, on a mock account with enforcement, what it may and may not do.
"""

from __future__ import annotations

from collections.abc import Callable

import botocore.exceptions
import pytest

REGION = "us-east-1"
API_ARN = f"arn:aws:apigateway:{REGION}::"
OWNER_ANN = {"owner": "ann", "project": "serverless-poc"}
OWNER_BOB = {"owner": "bob", "project": "serverless-poc"}


@pytest.fixture
def user(mock_user):
    """A new IAM user allowed exactly the statements given (conftest's ``mock_user``)."""
    return mock_user


def allow(action: str | list[str], resource: str | list[str], **condition: dict) -> dict:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def owner_is(owner: str, kind: str) -> dict:
    """``StringEquals`` on the ``owner`` tag: ``kind`` is ``RequestTag`` or ``ResourceTag``."""
    return {"StringEquals": {f"aws:{kind}/owner": owner}}


def assert_denied(call: Callable[[], object], action: str, resource: str | None = None) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    if resource is not None:
        assert f"is not authorized to perform: {action} on resource: {resource}" in error["Message"]


@pytest.fixture
def apis(mock_session, mock_name) -> dict[str, str]:
    """Two REST APIs made by the root, tagged as ann's and as bob's."""
    apigateway = mock_session.client("apigateway")
    return {
        owner: apigateway.create_rest_api(name=mock_name(f"{owner}-api"), tags=tags)["id"]
        for owner, tags in (("ann", OWNER_ANN), ("bob", OWNER_BOB))
    }


def _root_resource(apigateway, api_id: str) -> str:
    return apigateway.get_resources(restApiId=api_id)["items"][0]["id"]


def test_get_on_one_apis_arn_reads_that_api_and_not_another(user, apis):
    ann, bob = apis["ann"], apis["bob"]
    apigateway = user(
        allow("apigateway:GET", [f"{API_ARN}/restapis/{ann}", f"{API_ARN}/restapis/{ann}/*"])
    ).client("apigateway")
    assert apigateway.get_rest_api(restApiId=ann)["id"] == ann
    assert apigateway.get_resources(restApiId=ann)["items"]
    assert_denied(
        lambda: apigateway.get_rest_api(restApiId=bob),
        "apigateway:GET",
        f"{API_ARN}/restapis/{bob}",
    )
    assert_denied(
        lambda: apigateway.get_resources(restApiId=bob),
        "apigateway:GET",
        f"{API_ARN}/restapis/{bob}/resources",
    )
    # the verb is the action: GET does not allow a DELETE of the same API
    assert_denied(
        lambda: apigateway.delete_rest_api(restApiId=ann),
        "apigateway:DELETE",
        f"{API_ARN}/restapis/{ann}",
    )


def test_an_operation_name_is_not_an_api_gateway_action(user, apis):
    """``apigateway:GetRestApi`` is not an action IAM knows; a policy granting it grants nothing."""
    apigateway = user(allow("apigateway:GetRestApi", "*")).client("apigateway")
    assert_denied(lambda: apigateway.get_rest_api(restApiId=apis["ann"]), "apigateway:GET")


def test_a_create_is_allowed_only_with_the_request_tags_the_condition_asks_for(user, mock_name):
    apigateway = user(
        allow("apigateway:POST", f"{API_ARN}/restapis", **owner_is("ann", "RequestTag")),
        allow("apigateway:GET", f"{API_ARN}/restapis/*"),
    ).client("apigateway")
    made = apigateway.create_rest_api(name=mock_name("AnnApi"), tags=OWNER_ANN)["id"]
    # a statement whose condition does not hold (the create's) does not deny a GET another allows
    assert apigateway.get_rest_api(restApiId=made)["tags"] == OWNER_ANN
    assert_denied(
        lambda: apigateway.create_rest_api(name=mock_name("Untagged")),
        "apigateway:POST",
        f"{API_ARN}/restapis",
    )
    assert_denied(
        lambda: apigateway.create_rest_api(name=mock_name("Bobs"), tags=OWNER_BOB),
        "apigateway:POST",
        f"{API_ARN}/restapis",
    )


def test_an_apis_resource_tags_govern_its_children(mock_session, user, apis):
    ann, bob = apis["ann"], apis["bob"]
    root = mock_session.client("apigateway")
    bob_root = _root_resource(root, bob)
    apigateway = user(
        allow(
            ["apigateway:GET", "apigateway:POST", "apigateway:PUT"],
            f"{API_ARN}/restapis/*",
            **owner_is("ann", "ResourceTag"),
        )
    ).client("apigateway")
    ann_root = _root_resource(apigateway, ann)
    child = apigateway.create_resource(restApiId=ann, parentId=ann_root, pathPart="predict")["id"]
    apigateway.put_method(
        restApiId=ann, resourceId=child, httpMethod="POST", authorizationType="NONE"
    )
    assert apigateway.get_method(restApiId=ann, resourceId=child, httpMethod="POST")
    assert_denied(
        lambda: apigateway.get_resources(restApiId=bob),
        "apigateway:GET",
        f"{API_ARN}/restapis/{bob}/resources",
    )
    assert_denied(
        lambda: apigateway.create_resource(restApiId=bob, parentId=bob_root, pathPart="x"),
        "apigateway:POST",
        f"{API_ARN}/restapis/{bob}/resources/{bob_root}",
    )
    assert_denied(
        lambda: apigateway.put_method(
            restApiId=bob, resourceId=bob_root, httpMethod="GET", authorizationType="NONE"
        ),
        "apigateway:PUT",
        f"{API_ARN}/restapis/{bob}/resources/{bob_root}/methods/GET",
    )


def test_a_usage_plans_keys_inherit_the_plans_tags(mock_session, user, mock_name):
    root = mock_session.client("apigateway")
    plans = {
        owner: root.create_usage_plan(name=mock_name(f"{owner}-plan"), tags=tags)["id"]
        for owner, tags in (("ann", OWNER_ANN), ("bob", OWNER_BOB))
    }
    key = root.create_api_key(name=mock_name("key"), enabled=True)["id"]
    apigateway = user(
        allow("apigateway:POST", f"{API_ARN}/usageplans/*", **owner_is("ann", "ResourceTag"))
    ).client("apigateway")
    apigateway.create_usage_plan_key(usagePlanId=plans["ann"], keyId=key, keyType="API_KEY")
    assert_denied(
        lambda: apigateway.create_usage_plan_key(
            usagePlanId=plans["bob"], keyId=key, keyType="API_KEY"
        ),
        "apigateway:POST",
        f"{API_ARN}/usageplans/{plans['bob']}/keys",
    )


def test_apigateway_star_on_star_still_allows_everything(user, mock_name):
    apigateway = user(allow("apigateway:*", "*")).client("apigateway")
    api = apigateway.create_rest_api(name=mock_name("Anything"))["id"]  # untagged
    root_id = _root_resource(apigateway, api)
    child = apigateway.create_resource(restApiId=api, parentId=root_id, pathPart="p")["id"]
    apigateway.put_method(
        restApiId=api, resourceId=child, httpMethod="GET", authorizationType="NONE"
    )
    apigateway.update_rest_api(
        restApiId=api, patchOperations=[{"op": "replace", "path": "/description", "value": "d"}]
    )
    key = apigateway.create_api_key(name=mock_name("k"), enabled=True)["id"]
    plan = apigateway.create_usage_plan(name=mock_name("plan"))["id"]
    apigateway.create_usage_plan_key(usagePlanId=plan, keyId=key, keyType="API_KEY")
    assert apigateway.get_rest_apis()["items"]
    apigateway.delete_usage_plan_key(usagePlanId=plan, keyId=key)
    apigateway.delete_usage_plan(usagePlanId=plan)
    apigateway.delete_api_key(apiKey=key)
    apigateway.delete_rest_api(restApiId=api)


# -- S3 Block Public Access ---------------------------------------------------------------------------
@pytest.fixture
def bucket(mock_session, mock_name) -> str:
    name = mock_name("bpa-bucket-")
    mock_session.client("s3").create_bucket(Bucket=name)
    return name


BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def test_put_public_access_block_needs_s3_put_bucket_public_access_block(user, bucket):
    arn = f"arn:aws:s3:::{bucket}"
    allowed = user(allow("s3:PutBucketPublicAccessBlock", arn)).client("s3")
    allowed.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL)
    creator = user(allow("s3:CreateBucket", arn)).client("s3")
    assert_denied(
        lambda: creator.put_public_access_block(
            Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL
        ),
        "s3:PutBucketPublicAccessBlock",
    )


def test_get_and_delete_public_access_block_need_their_own_actions(mock_session, user, bucket):
    arn = f"arn:aws:s3:::{bucket}"
    mock_session.client("s3").put_public_access_block(
        Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL
    )
    reader = user(allow("s3:GetBucketPublicAccessBlock", arn)).client("s3")
    shown = reader.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert shown == BLOCK_ALL
    lister = user(allow("s3:ListBucket", arn)).client("s3")
    assert_denied(lambda: lister.get_public_access_block(Bucket=bucket), "")
    deleter = user(allow("s3:DeleteBucket", arn)).client("s3")
    assert_denied(lambda: deleter.delete_public_access_block(Bucket=bucket), "")
    lifter = user(allow("s3:DeleteBucketPublicAccessBlock", arn)).client("s3")
    lifter.delete_public_access_block(Bucket=bucket)


def test_tagging_is_judged_by_the_tagged_items_tags_and_the_tags_sent(mock_session, user, apis):
    root = mock_session.client("apigateway")
    stages = {}
    for owner, api in apis.items():
        top = _root_resource(root, api)
        root.put_method(restApiId=api, resourceId=top, httpMethod="GET", authorizationType="NONE")
        root.put_integration(restApiId=api, resourceId=top, httpMethod="GET", type="MOCK")
        root.create_deployment(restApiId=api, stageName="prod")
        stages[owner] = f"{API_ARN}/restapis/{api}/stages/prod"
    apigateway = user(
        allow(
            "apigateway:PUT",
            f"{API_ARN}/tags/*",
            StringEquals={"aws:ResourceTag/owner": "ann", "aws:RequestTag/owner": "ann"},
        )
    ).client("apigateway")
    apigateway.tag_resource(resourceArn=stages["ann"], tags={"owner": "ann"})
    assert_denied(
        lambda: apigateway.tag_resource(resourceArn=stages["ann"], tags={"owner": "bob"}),
        "apigateway:PUT",
    )
    assert_denied(
        lambda: apigateway.tag_resource(resourceArn=stages["bob"], tags={"owner": "ann"}),
        "apigateway:PUT",
    )
