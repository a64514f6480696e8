"""Blob storage for proof-of-delivery photos and signatures: a local directory by default, an
S3-compatible bucket when configured (`service.blob_store_from_settings`), and the checks a
photo passes before it is kept (`images`)."""
