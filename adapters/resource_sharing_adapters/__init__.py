"""Reference adapters of resource-sharing: the real parts behind the core's ports."""
