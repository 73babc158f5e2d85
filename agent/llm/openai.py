"""``openai`` policy: any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp, hosted APIs).

Standard library only (``urllib.request`` + ``json``); the ``openai`` package is not needed. Each call is
one ``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``temperature: 0`` and, unless
``json_mode=False``, ``response_format: {"type": "json_object"}`` (if a server answers 400/422 about
``response_format`` the request is retried once without it, and that is remembered).

Configuration, first found wins:

- ``base_url``: argument, ``ROBOCORRECT_OPENAI_BASE_URL``, ``OPENAI_BASE_URL``, else ``https://api.openai.com/v1``;
- ``api_key``: argument, ``ROBOCORRECT_OPENAI_API_KEY``, ``OPENAI_API_KEY``, else none (local servers need none);
- ``model``: argument, ``ROBOCORRECT_OPENAI_MODEL`` (required).

Examples::

    # Ollama (ollama pull qwen2.5:7b-instruct; ollama serve)
    OpenAIPolicy(base_url="http://localhost:11434/v1", model="qwen2.5:7b-instruct")
    # vLLM (vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000)
    OpenAIPolicy(base_url="http://localhost:8000/v1", model="Qwen/Qwen2.5-7B-Instruct")
    # environment only
    export ROBOCORRECT_OPENAI_BASE_URL=http://localhost:11434/v1 ROBOCORRECT_OPENAI_MODEL=qwen2.5:7b-instruct
    OpenAIPolicy()

or ``agent.factory.make_policy("openai", base_url=..., model=..., api_key=...)``. The answer text goes
through :mod:`agent.llm.parse` exactly as for the ``hf`` backend. Timeouts, unreachable servers, HTTP
errors and bodies that are not chat-completion JSON raise :class:`~agent.policy.PolicyError` naming the
URL and the HTTP status; model text that is malformed or unsafe raises it too and is never executed.
"""
from __future__ import annotations

import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

from agent.llm.base import LLMOptions, LLMPolicy
from agent.policy import PolicyError

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _env(*names: str) -> Optional[str]:
    for n in names:
        v = os.environ.get(n)
        if v:
            return v
    return None


def _is_loopback(url: str) -> bool:
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return host == "localhost" or host.startswith("127.") or host == "::1"


@dataclass
class OpenAIConfig:
    """Resolved settings of :class:`OpenAIPolicy`; ``timeout`` in seconds per request."""

    base_url: str
    model: str
    api_key: Optional[str] = field(default=None, repr=False)
    timeout: float = 60.0
    json_mode: bool = True
    max_tokens: Optional[int] = 1024
    temperature: float = 0.0


class OpenAIPolicy(LLMPolicy):
    """A policy answered by an OpenAI-compatible ``/chat/completions`` endpoint, temperature 0, validated.

    ``base_url``: e.g. ``http://localhost:11434/v1`` (Ollama) or ``http://localhost:8000/v1`` (vLLM);
    ``model``: the server's model name; ``api_key``: sent as ``Authorization: Bearer``; ``timeout``:
    seconds per request; ``json_mode``: send ``response_format={"type": "json_object"}``;
    ``max_tokens``: answer budget (None = 96 for ``answer="edit"``, 1024 for ``"plan"``); ``answer``,
    ``examples``, ``kb``, ``kb_examples``: :class:`agent.llm.base.LLMOptions`. Constructing never touches the network.
    """

    name = "openai"

    def __init__(
        self,
        base_url: Optional[str] = None,
        model: Optional[str] = None,
        api_key: Optional[str] = None,
        timeout: float = 60.0,
        json_mode: bool = True,
        max_tokens: Optional[int] = None,
        temperature: float = 0.0,
        answer: str = "edit",
        examples: int = 4,
        kb: Optional[str] = None,
        kb_examples: int = 2,
    ) -> None:
        super().__init__(LLMOptions(answer, int(examples), kb, int(kb_examples)))
        if max_tokens is None:
            max_tokens = 96 if answer == "edit" else 1024
        url = base_url or _env("ROBOCORRECT_OPENAI_BASE_URL", "OPENAI_BASE_URL") or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise PolicyError(f"base_url must start with http:// or https://, got {url!r}")
        name = model or _env("ROBOCORRECT_OPENAI_MODEL")
        if not name:
            raise PolicyError("the openai policy needs a model name: pass model=... or set ROBOCORRECT_OPENAI_MODEL")
        if timeout <= 0:
            raise PolicyError(f"timeout must be positive seconds, got {timeout}")
        key = api_key or _env("ROBOCORRECT_OPENAI_API_KEY", "OPENAI_API_KEY")
        self.config = OpenAIConfig(url.rstrip("/"), name, key, float(timeout), bool(json_mode), max_tokens, float(temperature))

    @property
    def url(self) -> str:
        return f"{self.config.base_url}/chat/completions"

    def request_body(self, messages: list[dict[str, str]], json_mode: Optional[bool] = None) -> dict[str, Any]:
        c = self.config
        body: dict[str, Any] = {"model": c.model, "messages": messages, "temperature": c.temperature, "stream": False}
        if c.max_tokens:
            body["max_tokens"] = int(c.max_tokens)
        if c.json_mode if json_mode is None else json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _post(self, body: dict[str, Any]) -> tuple[int, str]:
        """(status, body text) of one POST; HTTP error statuses are returned, transport failures raise PolicyError."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        req = urllib.request.Request(self.url, data=json.dumps(body).encode("utf-8"), headers=headers, method="POST")
        # a local server (Ollama, vLLM on this machine) is never reached through an HTTP(S)_PROXY
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({})) if _is_loopback(self.url) else urllib.request.build_opener()
        try:
            with opener.open(req, timeout=self.config.timeout) as resp:
                return int(resp.status), resp.read().decode("utf-8", errors="replace")
        except urllib.error.HTTPError as e:
            try:
                text = e.read().decode("utf-8", errors="replace")
            except Exception:
                text = ""
            return int(e.code), text
        except (socket.timeout, TimeoutError):
            raise PolicyError(f"POST {self.url} timed out after {self.config.timeout:g} s") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, (socket.timeout, TimeoutError)):
                raise PolicyError(f"POST {self.url} timed out after {self.config.timeout:g} s") from None
            raise PolicyError(f"cannot reach {self.url}: {e.reason}") from None
        except (ConnectionError, OSError) as e:
            raise PolicyError(f"cannot reach {self.url}: {e}") from None

    def complete(self, messages: list[dict[str, str]], pattern: Optional[str] = None) -> str:
        """The server's answer text (``pattern`` is not sent: chat-completion servers differ in how they constrain)."""
        status, text = self._post(self.request_body(messages))
        if self.config.json_mode and status in (400, 422) and "response_format" in text:
            self.config.json_mode = False  # this server lacks JSON mode; the parser still validates everything
            status, text = self._post(self.request_body(messages))
        if status != 200:
            detail = " ".join(text.split())[:300]
            raise PolicyError(f"POST {self.url} answered HTTP {status}" + (f": {detail}" if detail else ""))
        try:
            data = json.loads(text)
        except ValueError:
            raise PolicyError(f"POST {self.url} answered HTTP {status} with a body that is not JSON: {text[:200]!r}") from None
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise PolicyError(
                f"POST {self.url} answered HTTP {status} without choices[0].message.content: {json.dumps(data)[:200]}"
            ) from None
        usage = data.get("usage") if isinstance(data, dict) else None
        if isinstance(usage, dict):
            self.last_usage = {k: int(v) for k, v in usage.items() if k in ("prompt_tokens", "completion_tokens") and isinstance(v, int)}
        if not isinstance(content, str) or not content.strip():
            reason = data["choices"][0].get("finish_reason") if isinstance(data["choices"][0], dict) else None
            raise PolicyError(f"POST {self.url} answered HTTP {status} with no text (finish_reason {reason!r})")
        return content
