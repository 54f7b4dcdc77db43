"""The mock account's ECR registry on the wire (no Docker needed): push and pull as the Docker
Registry HTTP API v2 defines them, with ECR's tokens, ECR's authorization and ECR's state."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
import requests

from helpers.mock.ecr.tokens import TokenMint
from helpers.service_models import boto3_session

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
LAYER_TYPE = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def registry_login(session) -> tuple[str, tuple[str, str]]:
    """(proxyEndpoint, (user, password)) from GetAuthorizationToken, as docker login uses them."""
    data = session.client("ecr").get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return data["proxyEndpoint"], (user, password)


def push_blob(url: str, auth, repository: str, data: bytes) -> str:
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=auth)
    assert started.status_code == 202, started.text
    location = url + started.headers["Location"]
    half = len(data) // 2
    for start, chunk in ((0, data[:half]), (half, data[half:])):
        end = start + len(chunk) - 1
        patched = requests.patch(
            location, data=chunk, auth=auth, headers={"Content-Range": f"{start}-{end}"}
        )
        assert patched.status_code == 202, patched.text
    assert patched.headers["Range"] == f"0-{len(data) - 1}"
    finished = requests.put(location, params={"digest": _digest(data)}, auth=auth)
    assert finished.status_code == 201, finished.text
    assert finished.headers["Docker-Content-Digest"] == _digest(data)
    return _digest(data)


def image_manifest(config: bytes, layers: list[bytes]) -> bytes:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": CONFIG_TYPE, "size": len(config), "digest": _digest(config)},
            "layers": [
                {"mediaType": LAYER_TYPE, "size": len(layer), "digest": _digest(layer)}
                for layer in layers
            ],
        }
    ).encode()


def push_image(url: str, auth, repository: str, tag: str, seed: str) -> tuple[bytes, str]:
    """Push a config and a layer and the manifest naming them; (manifest, its digest)."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "seed": seed}).encode()
    layer = f"layer of {seed}".encode() * 1000
    push_blob(url, auth, repository, config)
    push_blob(url, auth, repository, layer)
    manifest = image_manifest(config, [layer])
    put = requests.put(
        f"{url}/v2/{repository}/manifests/{tag}",
        data=manifest,
        auth=auth,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert put.status_code == 201, put.text
    return manifest, put.headers["Docker-Content-Digest"]


def _code(response: requests.Response) -> str:
    return response.json()["errors"][0]["code"]


@pytest.fixture
def repository(mock_session, mock_name) -> str:
    name = mock_name("repo")
    mock_session.client("ecr").create_repository(repositoryName=name)
    return name


@pytest.fixture
def login(mock_session) -> tuple[str, tuple[str, str]]:
    return registry_login(mock_session)


def test_the_token_names_the_registry_and_expires_in_twelve_hours(mock_account, mock_session):
    data = mock_session.client("ecr").get_authorization_token()["authorizationData"][0]
    assert data["proxyEndpoint"] == f"http://localhost:{mock_account.registry.port}"
    left = data["expiresAt"] - datetime.now(UTC)
    assert timedelta(hours=11) < left <= timedelta(hours=12)
    user, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    assert user == "AWS"
    assert mock_account.admin_credentials["secret_access_key"] not in password


def test_without_a_valid_token_nothing_is_reachable(login, repository):
    url, (user, password) = login
    bogus = password[:-4] + ("AAAA" if not password.endswith("AAAA") else "BBBB")
    paths = ("/v2/", f"/v2/{repository}/tags/list", f"/v2/{repository}/manifests/latest")
    for auth in (None, ("AWS", bogus), ("someone", password), ("AWS", "")):
        for path in paths:
            answer = requests.get(url + path, auth=auth)
            assert answer.status_code == 401, (auth, path)
            assert answer.headers["WWW-Authenticate"].startswith('Basic realm="')
            assert _code(answer) == "UNAUTHORIZED"
    refused = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=("AWS", bogus))
    assert refused.status_code == 401
    assert requests.get(url + "/v2/", auth=(user, password)).status_code == 200


def test_a_token_another_account_minted_is_refused(login):
    url, _ = login
    other = TokenMint()  # another account's registry draws its own key
    password, _ = other.mint("AKIAMOCKACCOUNTROOT0")
    assert requests.get(url + "/v2/", auth=("AWS", password)).status_code == 401


def test_an_expired_token_is_refused(mock_account, login):
    url, _ = login
    password, _ = mock_account.registry.mint.mint("AKIAMOCKACCOUNTROOT0", lifetime_s=-1)
    assert requests.get(url + "/v2/", auth=("AWS", password)).status_code == 401
    fresh, _ = mock_account.registry.mint.mint("AKIAMOCKACCOUNTROOT0")
    assert requests.get(url + "/v2/", auth=("AWS", fresh)).status_code == 200


def test_a_pushed_image_is_an_ecr_image(mock_session, login, repository):
    url, auth = login
    manifest, digest = push_image(url, auth, repository, "v1", "first")
    assert digest == _digest(manifest)
    ecr = mock_session.client("ecr")
    (described,) = ecr.describe_images(repositoryName=repository)["imageDetails"]
    assert described["imageDigest"] == digest
    assert described["imageTags"] == ["v1"]
    assert described["imageManifestMediaType"] == DOCKER_MANIFEST
    (got,) = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": "v1"}])["images"]
    assert got["imageManifest"].encode() == manifest
    layers = [item["digest"] for item in json.loads(manifest)["layers"]]
    available = ecr.batch_check_layer_availability(repositoryName=repository, layerDigests=layers)
    assert [layer["layerAvailability"] for layer in available["layers"]] == ["AVAILABLE"]

    for reference in ("v1", digest):
        pulled = requests.get(f"{url}/v2/{repository}/manifests/{reference}", auth=auth)
        assert pulled.status_code == 200
        assert pulled.content == manifest
        assert pulled.headers["Content-Type"] == DOCKER_MANIFEST
        assert pulled.headers["Docker-Content-Digest"] == digest
    head = requests.head(f"{url}/v2/{repository}/manifests/v1", auth=auth)
    assert head.status_code == 200 and head.headers["Docker-Content-Digest"] == digest
    assert int(head.headers["Content-Length"]) == len(manifest)
    blob = requests.get(f"{url}/v2/{repository}/blobs/{layers[0]}", auth=auth)
    assert blob.status_code == 200 and _digest(blob.content) == layers[0]
    tags = requests.get(f"{url}/v2/{repository}/tags/list", auth=auth).json()
    assert tags == {"name": repository, "tags": ["v1"]}


def test_pushing_the_same_image_again_changes_nothing(mock_session, login, repository):
    url, auth = login
    _, digest = push_image(url, auth, repository, "v1", "again")
    _, again = push_image(url, auth, repository, "v1", "again")
    assert again == digest
    images = mock_session.client("ecr").describe_images(repositoryName=repository)["imageDetails"]
    assert [image["imageDigest"] for image in images] == [digest]


def test_a_wrong_digest_is_refused_and_the_store_keeps_nothing_of_it(login, repository):
    url, auth = login
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=auth)
    location = url + started.headers["Location"]
    requests.patch(location, data=b"what was sent", auth=auth)
    claimed = _digest(b"something else")
    finished = requests.put(location, params={"digest": claimed}, auth=auth)
    assert finished.status_code == 400
    assert _code(finished) == "DIGEST_INVALID"
    assert _digest(b"what was sent") in finished.json()["errors"][0]["message"]
    for digest in (claimed, _digest(b"what was sent")):
        missing = requests.head(f"{url}/v2/{repository}/blobs/{digest}", auth=auth)
        assert missing.status_code == 404
    assert requests.patch(location, data=b"more", auth=auth).status_code == 404  # upload closed
    assert push_blob(url, auth, repository, b"what was sent") == _digest(b"what was sent")


def test_a_repository_ecr_does_not_have_is_name_unknown(mock_session, login):
    url, auth = login
    started = requests.post(f"{url}/v2/no-such-repository/blobs/uploads/", auth=auth)
    assert started.status_code == 404
    assert _code(started) == "NAME_UNKNOWN"
    assert "create-repository" in started.json()["errors"][0]["message"]
    manifest = requests.get(f"{url}/v2/no-such-repository/manifests/latest", auth=auth)
    assert _code(manifest) == "NAME_UNKNOWN"


def test_bad_manifests_are_refused_and_nothing_is_stored(mock_session, login, repository):
    url, auth = login
    config = b'{"os": "linux"}'
    push_blob(url, auth, repository, config)
    headers = {"Content-Type": DOCKER_MANIFEST}
    target = f"{url}/v2/{repository}/manifests/v1"

    never_pushed = image_manifest(config, [b"a layer nobody uploaded"])
    refused = requests.put(target, data=never_pushed, auth=auth, headers=headers)
    assert refused.status_code == 400 and _code(refused) == "MANIFEST_BLOB_UNKNOWN"
    assert refused.json()["errors"][0]["detail"] == _digest(b"a layer nobody uploaded")

    for body in (b"{not json", b"[]", json.dumps({"schemaVersion": 1}).encode(), b"\xff\xfe"):
        refused = requests.put(target, data=body, auth=auth, headers=headers)
        assert refused.status_code == 400 and _code(refused) == "MANIFEST_INVALID", body
    too_big = b'{"schemaVersion": 2, "x": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    refused = requests.put(target, data=too_big, auth=auth, headers=headers)
    assert refused.status_code == 400 and _code(refused) == "SIZE_INVALID"
    wrong_digest = requests.put(
        f"{url}/v2/{repository}/manifests/{_digest(b'other')}",
        data=image_manifest(config, []),
        auth=auth,
        headers=headers,
    )
    assert _code(wrong_digest) == "DIGEST_INVALID"

    ecr = mock_session.client("ecr")
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []
    fine = requests.put(target, data=image_manifest(config, []), auth=auth, headers=headers)
    assert fine.status_code == 201


def test_chunked_bodies_are_read_whole(mock_session, login, repository):
    """Docker may send a body with Transfer-Encoding: chunked (a generator body here)."""
    url, auth = login
    config = b'{"os": "linux", "chunked": true}'
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=auth)
    finished = requests.put(
        url + started.headers["Location"],
        params={"digest": _digest(config)},
        data=iter([config[:5], config[5:]]),
        auth=auth,
    )
    assert finished.status_code == 201, finished.text
    manifest = image_manifest(config, [])
    put = requests.put(
        f"{url}/v2/{repository}/manifests/chunked",
        data=iter([manifest[i : i + 7] for i in range(0, len(manifest), 7)]),
        auth=auth,
        headers={"Content-Type": DOCKER_MANIFEST},
    )
    assert put.status_code == 201, put.text
    assert requests.get(url + put.headers["Location"], auth=auth).content == manifest


def test_an_immutable_tag_is_not_overwritten(mock_session, login, mock_name):
    url, auth = login
    name = mock_name("repo")
    ecr = mock_session.client("ecr")
    ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
    _, first = push_image(url, auth, name, "v1", "first")
    with pytest.raises(AssertionError, match="TAG_INVALID"):
        push_image(url, auth, name, "v1", "second")
    (image,) = ecr.describe_images(repositoryName=name)["imageDetails"]
    assert image["imageDigest"] == first


def test_unknown_uploads_and_blobs_are_clear_errors(login, repository):
    url, auth = login
    for upload in ("0f8c2c4e-0000-4000-8000-000000000000", "x" * 5000):
        answer = requests.patch(
            f"{url}/v2/{repository}/blobs/uploads/{upload}", data=b"x", auth=auth
        )
        assert answer.status_code == 404 and _code(answer) == "BLOB_UPLOAD_UNKNOWN"
    missing = requests.get(f"{url}/v2/{repository}/blobs/{_digest(b'never')}", auth=auth)
    assert missing.status_code == 404 and _code(missing) == "BLOB_UNKNOWN"
    unknown = requests.get(f"{url}/v2/{repository}/manifests/nope", auth=auth)
    assert unknown.status_code == 404 and _code(unknown) == "MANIFEST_UNKNOWN"
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=auth)
    location = url + started.headers["Location"]
    out_of_order = requests.patch(
        location, data=b"abc", auth=auth, headers={"Content-Range": "10-12"}
    )
    assert out_of_order.status_code == 416 and _code(out_of_order) == "BLOB_UPLOAD_INVALID"
    assert requests.get(url + "/v2/", auth=auth).status_code == 200


def test_an_upload_into_a_deleted_repository_is_dropped(mock_session, login, repository):
    url, auth = login
    ecr = mock_session.client("ecr")
    started = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=auth)
    location = url + started.headers["Location"]
    requests.patch(location, data=b"half a layer", auth=auth)
    ecr.delete_repository(repositoryName=repository, force=True)
    finished = requests.put(location, params={"digest": _digest(b"half a layer")}, auth=auth)
    assert finished.status_code == 404 and _code(finished) == "NAME_UNKNOWN"
    ecr.create_repository(repositoryName=repository)  # the same name, a new repository
    stale = requests.patch(location, data=b"more", auth=auth)
    assert stale.status_code == 404 and _code(stale) == "BLOB_UPLOAD_UNKNOWN"


def test_a_blob_is_only_readable_through_a_repository_holding_it(mock_session, login, mock_name):
    url, auth = login
    ecr = mock_session.client("ecr")
    holder, other = mock_name("repo"), mock_name("repo")
    for name in (holder, other):
        ecr.create_repository(repositoryName=name)
    digest = push_blob(url, auth, holder, b"private layer")
    elsewhere = requests.get(f"{url}/v2/{other}/blobs/{digest}", auth=auth)
    assert elsewhere.status_code == 404 and _code(elsewhere) == "BLOB_UNKNOWN"

    cannot = requests.post(
        f"{url}/v2/{other}/blobs/uploads/",
        params={"mount": _digest(b"absent"), "from": holder},
        auth=auth,
    )
    assert cannot.status_code == 202 and cannot.headers["Location"].startswith(
        f"/v2/{other}/blobs/uploads/"
    )
    mounted = requests.post(
        f"{url}/v2/{other}/blobs/uploads/", params={"mount": digest, "from": holder}, auth=auth
    )
    assert mounted.status_code == 201
    assert mounted.headers["Docker-Content-Digest"] == digest
    assert requests.head(f"{url}/v2/{other}/blobs/{digest}", auth=auth).status_code == 200


def test_ecr_deletes_are_seen_by_the_registry(mock_session, login, repository):
    url, auth = login
    _, digest = push_image(url, auth, repository, "v1", "deleted")
    ecr = mock_session.client("ecr")
    ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    gone = requests.get(f"{url}/v2/{repository}/manifests/v1", auth=auth)
    assert gone.status_code == 404 and _code(gone) == "MANIFEST_UNKNOWN"
    push_image(url, auth, repository, "v2", "deleted")
    ecr.delete_repository(repositoryName=repository, force=True)
    after = requests.get(f"{url}/v2/{repository}/manifests/v2", auth=auth)
    assert after.status_code == 404 and _code(after) == "NAME_UNKNOWN"


PULL = ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
PUSH = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
]


def test_the_registry_authorizes_like_ecr_for_the_identity_that_got_the_token(
    mock_account, mock_session, mock_user, login, repository, mock_name
):
    url, admin = login
    _, digest = push_image(url, admin, repository, "v1", "authorized")
    arn = f"arn:aws:ecr:{mock_account.region}:{mock_account.account_id}:repository/{repository}"

    puller = mock_user(
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": PULL[1:], "Resource": arn},
    )
    _, pull_auth = registry_login(puller)
    assert requests.get(f"{url}/v2/{repository}/manifests/v1", auth=pull_auth).status_code == 200
    denied = requests.post(f"{url}/v2/{repository}/blobs/uploads/", auth=pull_auth)
    assert denied.status_code == 403 and _code(denied) == "DENIED"
    message = denied.json()["errors"][0]["message"]
    assert "ecr:InitiateLayerUpload" in message and arn in message

    other = mock_name("repo")
    mock_session.client("ecr").create_repository(repositoryName=other)
    pusher = mock_user(
        {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Effect": "Allow", "Action": PUSH, "Resource": arn},
    )
    _, push_auth = registry_login(pusher)
    push_image(url, push_auth, repository, "v2", "pushed by a user")
    elsewhere = requests.post(f"{url}/v2/{other}/blobs/uploads/", auth=push_auth)
    assert elsewhere.status_code == 403
    not_readable = requests.get(f"{url}/v2/{repository}/manifests/{digest}", auth=push_auth)
    assert not_readable.status_code == 403 and "ecr:BatchGetImage" in not_readable.text


def test_a_token_stops_working_with_the_key_it_was_issued_to(mock_session, mock_name, login):
    url, _ = login
    iam = mock_session.client("iam")
    name = mock_name("user")
    iam.create_user(UserName=name)
    iam.put_user_policy(
        UserName=name,
        PolicyName="ecr",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = boto3_session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=mock_session.region_name,
    )
    _, auth = registry_login(user)
    assert requests.get(url + "/v2/", auth=auth).status_code == 200
    iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
    assert requests.get(url + "/v2/", auth=auth).status_code == 401


def test_without_ecr_get_authorization_token_there_is_no_token(mock_user):
    user = mock_user({"Effect": "Allow", "Action": "ecr:DescribeRepositories", "Resource": "*"})
    ecr = user.client("ecr")
    with pytest.raises(ecr.exceptions.ClientError, match="ecr:GetAuthorizationToken"):
        ecr.get_authorization_token()


def test_after_a_restart_old_tokens_fail_and_the_old_port_is_free(mock_account):
    """Last in the module: it restarts the module's account."""
    _, auth = registry_login(mock_account.session())
    old_port = mock_account.registry.port
    mock_account.stop()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old_port), timeout=5).close()
    with socket.socket() as probe:  # a new server may listen there (past closed connections)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", old_port))
        probe.listen()
    mock_account.start()
    new_url, _ = registry_login(mock_account.session())
    assert requests.get(new_url + "/v2/", auth=auth).status_code == 401
