"""Request validation for the mock, answering exactly as OpenAI does (400, ``param`` set).

Each body field has a rule in a table; a field the pinned SDK knows but the table does not
is accepted as is, and a field nobody knows is rejected with ``unknown_parameter``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from conformance.mock.http import (
    ErrorSpec,
    MockError,
    invalid_type,
    invalid_value,
    missing_parameter,
    out_of_range,
    unknown_parameter,
)

Rule = Callable[[str, Any], "ErrorSpec | None"]

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float))) and not isinstance(value, bool)


def integer(minimum: int | None = None, maximum: int | None = None) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not _is_int(value):
            return invalid_type(name, "an integer", value)
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            return out_of_range(name, value, minimum=minimum, maximum=maximum, kind="integer")
        return None

    return rule


def number(minimum: float, maximum: float) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not _is_number(value):
            return invalid_type(name, "a decimal", value)
        if value < minimum or value > maximum:
            return out_of_range(name, value, minimum=minimum, maximum=maximum, kind="decimal")
        return None

    return rule


def boolean(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, bool) else invalid_type(name, "a boolean", value)


def string(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, str) else invalid_type(name, "a string", value)


def one_of(*choices: str) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not isinstance(value, str):
            return invalid_type(name, "a string", value)
        if value not in choices:
            listed = ", ".join(f"'{c}'" for c in choices)
            return invalid_value(name, f"Invalid value: '{value}'. Supported values are: {listed}.")
        return None

    return rule


def stop_rule(name: str, value: Any) -> ErrorSpec | None:
    if isinstance(value, str):
        return None
    if isinstance(value, list):
        if len(value) > 4:
            return invalid_value(
                name, f"Invalid '{name}': array too long. Expected at most 4 items.", "array_above_max_length"
            )
        for index, item in enumerate(value):
            if not isinstance(item, str):
                return invalid_type(f"{name}[{index}]", "a string", item)
        return None
    return invalid_type(name, "a string or array of strings", value)


def string_map(value_rule: Rule, max_keys: int = 16) -> Rule:
    def rule(name: str, value: Any) -> ErrorSpec | None:
        if not isinstance(value, dict):
            return invalid_type(name, "an object", value)
        if len(value) > max_keys:
            return invalid_value(name, f"Invalid '{name}': too many keys. Expected at most {max_keys}.")
        for key, item in value.items():
            problem = value_rule(f"{name}.{key}", item)
            if problem:
                return problem
        return None

    return rule


def object_rule(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, dict) else invalid_type(name, "an object", value)


def array_rule(name: str, value: Any) -> ErrorSpec | None:
    return None if isinstance(value, list) else invalid_type(name, "an array", value)


def stream_options_rule(name: str, value: Any) -> ErrorSpec | None:
    if not isinstance(value, dict):
        return invalid_type(name, "an object", value)
    for key, item in value.items():
        if key not in ("include_usage", "include_obfuscation"):
            return unknown_parameter(f"{name}.{key}")
        if not isinstance(item, bool):
            return invalid_type(f"{name}.{key}", "a boolean", item)
    return None


CHAT_RULES: dict[str, Rule] = {
    "model": string,
    "messages": array_rule,
    "stream": boolean,
    "stream_options": stream_options_rule,
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "presence_penalty": number(-2, 2),
    "frequency_penalty": number(-2, 2),
    "n": integer(1, 128),
    "max_tokens": integer(1),
    "max_completion_tokens": integer(1),
    "seed": integer(),
    "stop": stop_rule,
    "logit_bias": string_map(integer(-100, 100), max_keys=300),
    "logprobs": boolean,
    "top_logprobs": integer(0, 20),
    "user": string,
    "metadata": string_map(string),
    "tools": array_rule,
    "tool_choice": lambda name, value: (
        None if isinstance(value, (str, dict)) else invalid_type(name, "a string or object", value)
    ),
    "parallel_tool_calls": boolean,
    "response_format": object_rule,
    "store": boolean,
    "service_tier": one_of("auto", "default", "flex", "scale", "priority", "fast"),
    "reasoning_effort": one_of("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "verbosity": one_of("low", "medium", "high"),
    "modalities": array_rule,
    "prompt_cache_key": string,
    "safety_identifier": string,
}

EMBEDDING_RULES: dict[str, Rule] = {
    "model": string,
    "encoding_format": one_of("float", "base64"),
    "dimensions": integer(1),
    "user": string,
}


@cache
def sdk_body_fields(params_module: str, class_name: str) -> frozenset[str]:
    """Every body field the pinned SDK can send for this endpoint."""
    module = __import__(params_module, fromlist=[class_name])
    # __annotations__ of a TypedDict holds every key, inherited ones included, unevaluated.
    return frozenset(getattr(module, class_name).__annotations__) | {"stream"}


def _check_fields(body: dict[str, Any], rules: dict[str, Rule], known: frozenset[str]) -> None:
    for name, value in body.items():
        rule = rules.get(name)
        if rule is None:
            if name not in known:
                raise MockError(unknown_parameter(name))
            continue
        if value is None and name not in ("model", "messages", "input"):
            continue  # an explicit null is "not given", as the SDK sends it
        problem = rule(name, value)
        if problem:
            raise MockError(problem)


def _validate_message(index: int, message: Any) -> None:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise MockError(invalid_type(where, "an object", message))
    role = message.get("role")
    if role is None:
        raise MockError(missing_parameter(f"{where}.role"))
    if role not in ROLES:
        listed = ", ".join(f"'{r}'" for r in ROLES)
        raise MockError(invalid_value(f"{where}.role", f"Invalid value: '{role}'. Supported values are: {listed}."))
    content = message.get("content")
    has_calls = bool(message.get("tool_calls") or message.get("function_call"))
    if content is None:
        if role == "assistant" and (has_calls or "content" in message or message.get("refusal")):
            pass
        elif role == "assistant":
            raise MockError(missing_parameter(f"{where}.content"))
        else:
            raise MockError(missing_parameter(f"{where}.content"))
    elif isinstance(content, list):
        allowed = PART_TYPES.get(role, ("text",))
        if not content and role != "assistant":
            raise MockError(
                invalid_value(
                    f"{where}.content",
                    f"Invalid '{where}.content': empty array. Expected an array with minimum length 1.",
                    "empty_array",
                )
            )
        for part_index, part in enumerate(content):
            part_where = f"{where}.content[{part_index}]"
            if not isinstance(part, dict):
                raise MockError(invalid_type(part_where, "an object", part))
            if part.get("type") not in allowed:
                listed = ", ".join(f"'{t}'" for t in allowed)
                raise MockError(
                    invalid_value(
                        f"{part_where}.type", f"Invalid value: '{part.get('type')}'. Supported values are: {listed}."
                    )
                )
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                raise MockError(invalid_type(f"{part_where}.text", "a string", part.get("text")))
    elif not isinstance(content, str):
        raise MockError(invalid_type(f"{where}.content", "a string or array", content))
    if "name" in message and not isinstance(message["name"], str):
        raise MockError(invalid_type(f"{where}.name", "a string", message["name"]))
    if role == "tool" and not isinstance(message.get("tool_call_id"), str):
        raise MockError(missing_parameter(f"{where}.tool_call_id"))


@dataclass(frozen=True)
class ChatRequest:
    raw: dict[str, Any]
    model: str
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    n: int
    stop: tuple[str, ...]

    def generation_key(self) -> dict[str, Any]:
        """What decides the content: everything but transport and limits (streamed == not)."""
        ignored = {
            "stream",
            "stream_options",
            "max_tokens",
            "max_completion_tokens",
            "n",
            "user",
            "stop",
            "metadata",
            "store",
            "temperature",
            "top_p",
            "service_tier",
            "logprobs",
            "top_logprobs",
        }
        return {k: v for k, v in self.raw.items() if k not in ignored}


def parse_chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise MockError(ErrorSpec(400, "The request body must be a JSON object.", "validation"))
    for required in ("model", "messages"):
        if body.get(required) is None:
            raise MockError(missing_parameter(required))
    _check_fields(
        body, CHAT_RULES, sdk_body_fields("openai.types.chat.completion_create_params", "CompletionCreateParamsBase")
    )
    messages = body["messages"]
    if not messages:
        raise MockError(
            invalid_value(
                "messages",
                "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                "but got an empty array instead.",
                "empty_array",
            )
        )
    for index, message in enumerate(messages):
        _validate_message(index, message)
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    if options is not None and not stream:
        raise MockError(
            invalid_value("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
        )
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise MockError(invalid_value("top_logprobs", "'top_logprobs' requires 'logprobs' to be true."))
    stop = body.get("stop")
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    return ChatRequest(
        raw=body,
        model=body["model"],
        messages=messages,
        stream=stream,
        include_usage=bool((options or {}).get("include_usage")),
        max_tokens=body.get("max_completion_tokens") or body.get("max_tokens"),
        n=body.get("n") or 1,
        stop=tuple(s for s in stops if s),
    )


@dataclass(frozen=True)
class EmbeddingRequest:
    raw: dict[str, Any]
    model: str
    inputs: list[str]
    encoding_format: str
    dimensions: int | None


def _embedding_inputs(value: Any) -> list[str]:
    """Normalise the four input forms to texts (token arrays become their ids as words)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, str) for v in value):
            return list(value)
        if all(_is_int(v) for v in value):
            return [" ".join(map(str, value))]
        if all(isinstance(v, list) and v and all(_is_int(t) for t in v) for v in value):
            return [" ".join(map(str, v)) for v in value]
    if isinstance(value, list) and not value:
        raise MockError(
            invalid_value(
                "input", "Invalid 'input': empty array. Expected an array with minimum length 1.", "empty_array"
            )
        )
    raise MockError(
        invalid_type("input", "a string, array of strings, array of integers or array of integer arrays", value)
    )


def parse_embedding_request(body: Any) -> EmbeddingRequest:
    if not isinstance(body, dict):
        raise MockError(ErrorSpec(400, "The request body must be a JSON object.", "validation"))
    for required in ("model", "input"):
        if body.get(required) is None:
            raise MockError(missing_parameter(required))
    _check_fields(
        body,
        EMBEDDING_RULES | {"input": lambda n, v: None},
        sdk_body_fields("openai.types.embedding_create_params", "EmbeddingCreateParams"),
    )
    inputs = _embedding_inputs(body["input"])
    if any(text == "" for text in inputs):
        raise MockError(invalid_value("input", "Invalid 'input': empty string. Expected a non-empty string."))
    return EmbeddingRequest(
        raw=body,
        model=body["model"],
        inputs=inputs,
        encoding_format=body.get("encoding_format") or "float",
        dimensions=body.get("dimensions"),
    )
