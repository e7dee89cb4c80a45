"""Isolated execution of untrusted training code: one interface, ``run(RunSpec) -> RunResult``, several backends."""
