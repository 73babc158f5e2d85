"""Language-model policies: a local transformers model (``hf``) or an OpenAI-compatible server (``openai``).

Both implement :class:`agent.policy.Policy` (``plan()`` and ``ground()``) exactly like the embedded
policy, and both pass every answer through the same validation (:mod:`agent.llm.parse`, which runs
``skills.schema.validate_plan``): a malformed answer (not JSON, wrong keys, unknown skill or level) or an
unsafe one (out of the safe bounds, an object that is not in the scene, a ``stop`` that changes the
plan) raises :class:`agent.policy.PolicyError` and is never executed.

Modules: :mod:`~agent.llm.prompt` (what the model is told), :mod:`~agent.llm.examples` (examples
retrieved for the utterance, from the training corpus and the knowledge base), :mod:`~agent.llm.edits`
(the compact answer and its grammar), :mod:`~agent.llm.parse` (what is accepted), :mod:`~agent.llm.base`
(the shared ``plan`` / ``ground``), :mod:`~agent.llm.hf`, :mod:`~agent.llm.openai`,
:mod:`~agent.llm.constrain` (grammar- or JSON-constrained decoding for ``hf``), :mod:`~agent.llm.gguf`
(GGUF files: load, convert to a model folder), :mod:`~agent.llm.lora` (LoRA finetuning of a small model on the
training corpus and hindsight examples, ``robocorrect train --lora``; :mod:`~agent.llm.lora_data` builds its data,
:mod:`~agent.llm.lora_cli` its options; ``hf`` takes the adapter as ``adapter=DIR``).

Using a local model (no network; greedy; cuda if available else cpu); every option is listed by
``robocorrect ground --help`` and checked by :func:`agent.factory.make_policy`::

    from agent.factory import make_policy
    policy = make_policy("hf", model="/models/Qwen2.5-1.5B-Instruct")                 # a model folder
    policy = make_policy("hf", model="/models/SmolLM2-135M-Instruct.Q4_1.gguf")       # a GGUF file
    policy = make_policy("hf", model="/models/Qwen2.5-1.5B-Instruct", answer="plan")  # whole plans (large models)

By default the model answers a short edit of the plan (:mod:`agent.llm.edits`), shown a few examples
retrieved for the utterance, and decoding is kept inside the edit grammar (``constrained="schema"``).
A hub name (``"Qwen/Qwen2.5-1.5B-Instruct"``) is looked up in the local cache only, unless
``local_files_only=False``.

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
