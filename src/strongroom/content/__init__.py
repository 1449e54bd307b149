"""Stored content: bytes split into encrypted, deduplicated chunks, shared by messages and files.

A *content* is one byte sequence (an MMS picture, a version of a file) with its SHA-256 and size;
it is made of *chunks*, each stored once per account as a blob.  Contents are deduplicated by
(SHA-256, size) and chunks by their keyed id, so the same photo sent by MMS and uploaded to the
locker is stored once.
"""
