"""The benchmarks behind ``robocorrect bench ...``: they drive the whole stack, so they sit on top of every
other package. With ``--json`` each prints one JSON object as its last line."""
