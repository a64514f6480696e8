"""Blobs in an S3-compatible bucket, against botocore's Stubber: the requests boto3 would send
and the answers S3 documents, no network."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from doorstep.settings import Settings
from doorstep.storage.s3 import S3BlobStore
from doorstep.storage.service import Blob, BlobNotFound, InvalidBlobKey, blob_store_from_settings

BUCKET = "doorstep-pod"
JPEG = b"\xff\xd8\xff\xe0" + b"photo bytes"


@pytest.fixture
def stubbed() -> Iterator[tuple[S3BlobStore, Stubber]]:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    with Stubber(client) as stubber:
        yield S3BlobStore(client, BUCKET, prefix="chandler/"), stubber
        stubber.assert_no_pending_responses()


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def test_put_sends_the_bytes_and_their_content_type(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_response(
        "put_object",
        {"ETag": '"6805f2cfc46c0f04559748bb039d69ae"'},
        {
            "Bucket": BUCKET,
            "Key": "chandler/pod/2026/12/03/a.jpg",
            "Body": JPEG,
            "ContentType": "image/jpeg",
        },
    )
    store.put("pod/2026/12/03/a.jpg", JPEG, "image/jpeg")


def test_get_reads_the_object(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, stubber = stubbed
    answer: dict[str, Any] = {
        "Body": body(JPEG),
        "ContentLength": len(JPEG),
        "ContentType": "image/jpeg",
    }
    stubber.add_response("get_object", answer, {"Bucket": BUCKET, "Key": "chandler/pod/a.jpg"})
    assert store.get("pod/a.jpg") == Blob(JPEG, "image/jpeg")


def test_a_missing_object(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error(
        "get_object",
        service_error_code="NoSuchKey",
        service_message="The specified key does not exist.",
        http_status_code=404,
        expected_params={"Bucket": BUCKET, "Key": "chandler/pod/gone.jpg"},
    )
    with pytest.raises(BlobNotFound):
        store.get("pod/gone.jpg")


def test_exists_asks_for_the_head(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_response(
        "head_object",
        {"ContentLength": 4, "ContentType": "image/jpeg"},
        {"Bucket": BUCKET, "Key": "chandler/pod/a.jpg"},
    )
    # HEAD answers carry no body, so a missing key comes back as a bare 404.
    stubber.add_client_error(
        "head_object",
        service_error_code="404",
        service_message="Not Found",
        http_status_code=404,
        expected_params={"Bucket": BUCKET, "Key": "chandler/pod/b.jpg"},
    )
    assert store.exists("pod/a.jpg")
    assert not store.exists("pod/b.jpg")


def test_other_errors_are_not_taken_for_a_missing_blob(
    stubbed: tuple[S3BlobStore, Stubber],
) -> None:
    from botocore.exceptions import ClientError

    store, stubber = stubbed
    stubber.add_client_error(
        "head_object", service_error_code="403", service_message="Forbidden", http_status_code=403
    )
    with pytest.raises(ClientError):
        store.exists("pod/a.jpg")


def test_delete(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": "chandler/pod/a.jpg"})
    store.delete("pod/a.jpg")


def test_keys_are_checked_before_any_request(stubbed: tuple[S3BlobStore, Stubber]) -> None:
    store, _ = stubbed
    with pytest.raises(InvalidBlobKey):
        store.put("../other-city/a.jpg", JPEG, "image/jpeg")


def test_the_bucket_from_settings_with_an_s3_compatible_endpoint() -> None:
    store = blob_store_from_settings(
        Settings(
            blob_s3_bucket=BUCKET,
            blob_s3_endpoint_url="http://127.0.0.1:9000",
            blob_s3_region="us-east-1",
            blob_s3_access_key_id="minio",
            blob_s3_secret_access_key="minio-secret",
            _env_file=None,
        )
    )
    assert isinstance(store, S3BlobStore)
    assert store.bucket == BUCKET
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9000"
    assert store.client.meta.config.s3["addressing_style"] == "path"
    assert store.client.meta.region_name == "us-east-1"
