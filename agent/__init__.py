"""robocorrect's language side: policies, the CLI, teaching sessions.

``agent.make_policy`` is :func:`agent.factory.make_policy`, imported lazily (no torch at import time).
"""


def __getattr__(name: str):
    if name == "make_policy":
        from agent.factory import make_policy

        return make_policy
    raise AttributeError(f"module 'agent' has no attribute {name!r}")
