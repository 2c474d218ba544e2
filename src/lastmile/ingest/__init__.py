"""Ingest: files in, validated records with provenance out (``docs/format.md``)."""

from lastmile.ingest.batch import BatchResult, IngestError, Reject, TypeCounts, ingest_paths

__all__ = ["BatchResult", "IngestError", "Reject", "TypeCounts", "ingest_paths"]
