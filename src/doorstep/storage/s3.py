"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph…) through boto3.

Credentials come from settings when given, else from boto3's own chain (environment, shared
files, an instance role). With an endpoint URL (anything but AWS) requests use path-style
addressing, which every S3-compatible server understands.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from doorstep.settings import Settings
from doorstep.storage.service import (
    DEFAULT_CONTENT_TYPE,
    Blob,
    BlobNotFound,
    check_content_type,
    check_key,
)

_MISSING = {"NoSuchKey", "NotFound", "404"}


class S3BlobStore:
    """Blobs as objects of ``bucket``, each key under ``prefix``. ``client`` is a boto3 S3
    client (tests pass one with a botocore ``Stubber``)."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        if not settings.blob_s3_bucket:
            raise ValueError("DOORSTEP_BLOB_S3_BUCKET is not set")
        secret = settings.blob_s3_secret_access_key
        client = boto3.client(
            "s3",
            endpoint_url=settings.blob_s3_endpoint_url or None,
            region_name=settings.blob_s3_region or None,
            aws_access_key_id=settings.blob_s3_access_key_id or None,
            aws_secret_access_key=secret.get_secret_value() if secret else None,
            config=Config(
                s3={"addressing_style": "path" if settings.blob_s3_endpoint_url else "auto"},
                retries={"mode": "standard", "max_attempts": 3},
                connect_timeout=10,
                read_timeout=30,
            ),
        )
        return cls(client, settings.blob_s3_bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType=check_content_type(content_type),
        )

    def get(self, key: str) -> Blob:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _missing(error):
                raise BlobNotFound(f"no blob {key}", key=key) from error
            raise
        body = answer["Body"]
        try:
            data = body.read()
        finally:
            body.close()
        return Blob(data, answer.get("ContentType") or DEFAULT_CONTENT_TYPE)

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING
