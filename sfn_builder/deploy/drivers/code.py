"""The archives of steps' `code:` directories in S3 (module `code_bundles`).

An archive's key holds its digest, so one that exists is complete and current: a
second `create` reads it (HeadObject) and uploads nothing. Archives are never
removed, by `create` or `delete`: a version that `rollback` may route to runs the
code it was published with, and jobs still running read theirs.
"""

from __future__ import annotations

from typing import Any

from ...code_bundles import bundle
from ..aws import Aws, AwsError, call, missing
from ..resources import CODE, Resource
from .base import Driver

DIGEST_METADATA = "sha256"  # x-amz-meta-sha256: the archive's digest, read back by HeadObject


class CodeDriver(Driver):
    kind = CODE

    def read(self, aws: Aws, name: str, workflow: str) -> dict[str, Any] | None:
        bucket, key = _location(name)
        found = missing(
            aws.client("s3").head_object,
            ("404", "NoSuchKey", "NotFound"),
            what=f"code archive {name}",
            Bucket=bucket,
            Key=key,
        )
        if found is None:
            return None
        return {"sha256": found.get("Metadata", {}).get(DIGEST_METADATA)}

    def differs(self, actual: dict[str, Any], spec: dict[str, Any]) -> bool:
        return actual["sha256"] != spec["sha256"]

    def change_details(self, actual: dict[str, Any] | None, spec: dict[str, Any]) -> list[str] | None:
        return [f"upload: {spec['files']} files from {spec['directory']} ({spec['bytes']:,} bytes compressed)"]

    def owned_names(self, aws: Aws, workflow: str) -> list[str]:
        return []  # kept: see the module's docstring

    def create(self, aws: Aws, resource: Resource) -> None:
        bucket, key = _location(resource.name)
        made = bundle(resource.spec["directory"])
        if made.digest != resource.spec["sha256"]:
            raise AwsError(
                f"the code directory {resource.spec['directory']} changed while create ran: run create again"
            )
        s3 = aws.client("s3")
        if (
            aws.local
            and missing(s3.head_bucket, ("404", "NoSuchBucket"), what=f"S3 bucket {bucket}", Bucket=bucket) is None
        ):
            call(s3.create_bucket, what=f"S3 bucket {bucket}", Bucket=bucket)  # the emulator's: a sandbox
        try:
            call(
                s3.put_object,
                what=f"code archive {resource.name}",
                Bucket=bucket,
                Key=key,
                Body=made.archive,
                ContentType="application/gzip",
                Metadata={DIGEST_METADATA: made.digest},
                ChecksumAlgorithm="SHA256",
            )
        except AwsError as error:
            if error.code != "NoSuchBucket":
                raise
            raise AwsError(
                f"the S3 bucket {bucket} (code_bucket) does not exist: create it, or name one the job's role can read",
                error.code,
            ) from None

    def update(self, aws: Aws, resource: Resource, actual: dict[str, Any]) -> None:
        self.create(aws, resource)

    def delete(self, aws: Aws, name: str, workflow: str) -> None:
        bucket, key = _location(name)
        call(aws.client("s3").delete_object, what=f"code archive {name}", Bucket=bucket, Key=key)


def _location(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key
