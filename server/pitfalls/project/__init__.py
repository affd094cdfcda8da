"""A project on disk: configuration, discovery, the cache, worker processes, the run."""
