"""locker."""
