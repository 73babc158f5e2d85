"""The embedded learned language policy: corpus grammar, numbers/units parser, model, training, inference.

Public entry points: :class:`agent.grounder.policy.EmbeddedPolicy` (via ``agent.factory.make_policy``),
:func:`agent.grounder.trainer.train`, :func:`agent.grounder.corpus.generate`,
:func:`agent.grounder.numbers.parse_quantities`. Heavy imports (torch, transformers) live in the
submodules, so importing this package is cheap.
"""
