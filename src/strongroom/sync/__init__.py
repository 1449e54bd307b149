"""Sync: the wire protocol devices speak (``protocol``), states and ids (``tokens``), and the
message sync operations (``messages``) over the vault."""
