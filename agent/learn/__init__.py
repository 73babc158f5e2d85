"""Learning from the logs: hindsight labels from logged episodes, finetuning the embedded policy on them,
a promotion gate and a policy registry, and the periodic retraining loop (issue 14).

- :mod:`agent.learn.hindsight`: episode records -> training examples (corpus format) and chat JSONL.
- :mod:`agent.learn.plan_args`: the arguments that worked in successful episodes, as rules over what the policy
  sees (a step's skill and its object's kind, colour, size), saved in the checkpoint and applied when it plans.
- :mod:`agent.learn.data`: examples + replay corpus -> a cached feature file the trainer reads.
- :mod:`agent.learn.finetune`: the training script (single process, ``torchrun`` / ``accelerate launch``).
- :mod:`agent.learn.registry`: the policy registry (``robocorrect policy list|use|rollback``).
- :mod:`agent.learn.gate`: the promotion gate.
- :mod:`agent.learn.retrain`: ``robocorrect retrain`` (once, or ``--watch --every N``).

Nothing here imports pybullet or faiss, so training runs on a machine that has neither.
"""
