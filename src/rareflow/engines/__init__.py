"""Engines: pure computations on arrays. They never read files or mutate their inputs."""
