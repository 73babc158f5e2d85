"""Language-model policies: a local transformers model (``hf``) or an OpenAI-compatible server (``openai``).

Both implement :class:`agent.policy.Policy` (``plan()`` and ``ground()``) exactly like the embedded
policy, and both pass every answer through the same validation (:mod:`agent.llm.parse`, which runs
``skills.schema.validate_plan``): a malformed answer (not JSON, wrong keys, unknown skill or level) or an
unsafe one (out of the safe bounds, an object that is not in the scene, a ``stop`` that changes the
plan) raises :class:`agent.policy.PolicyError` and is never executed.

Modules: :mod:`~agent.llm.prompt` (what the model is told), :mod:`~agent.llm.parse` (what is accepted),
:mod:`~agent.llm.base` (the shared ``plan`` / ``ground``), :mod:`~agent.llm.hf`, :mod:`~agent.llm.openai`,
:mod:`~agent.llm.constrain` (optional JSON-constrained decoding for ``hf``).

Using a local model directory (no network; greedy; cuda if available else cpu)::

    from agent.llm.hf import HFPolicy
    policy = HFPolicy(model="/models/Qwen2.5-1.5B-Instruct", dtype="bfloat16", force_prefix="{")
    # or: agent.factory.make_policy("hf", model="/models/Qwen2.5-1.5B-Instruct")

Any ``AutoModelForCausalLM`` directory works; instruction-tuned models with a chat template answer best.
``constrained=True`` keeps the generated text one JSON object token by token (syntax only; small models
then cannot wander into prose), ``force_prefix="{"`` starts the answer at the brace, ``dtype`` picks
``float32`` / ``float16`` / ``bfloat16`` (default float32 on cpu, bfloat16 on cuda).
A hub name (``"Qwen/Qwen2.5-1.5B-Instruct"``) is looked up in the local cache, and downloaded only
when you pass ``local_files_only=False`` and ``HF_HUB_OFFLINE`` is unset.

Using a server (standard library HTTP; temperature 0; JSON mode unless ``json_mode=False``)::

    # Ollama:  ollama serve; ollama pull qwen2.5:7b-instruct
    OpenAIPolicy(base_url="http://localhost:11434/v1", model="qwen2.5:7b-instruct")
    # vLLM:    vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000
    OpenAIPolicy(base_url="http://localhost:8000/v1", model="Qwen/Qwen2.5-7B-Instruct")
    # hosted:  OpenAIPolicy(model="gpt-4o-mini")  with OPENAI_API_KEY set

or the environment: ``ROBOCORRECT_OPENAI_BASE_URL`` (else ``OPENAI_BASE_URL``), ``ROBOCORRECT_OPENAI_API_KEY``
(else ``OPENAI_API_KEY``), ``ROBOCORRECT_OPENAI_MODEL``.

Importing this package is cheap: torch and transformers are imported by :mod:`agent.llm.hf` only.
"""
