"""Identity and ownership: accounts, devices, sessions, data keys, usage and the change sequence."""
