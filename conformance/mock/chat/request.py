"""Parsing and validating a chat completions request, as OpenAI does.

Field types and ranges come from the rule table; the structure that spans fields (tools and
``tool_choice``, tool calls and the tool messages answering them, ``response_format`` and its
strict schema, images) is checked here, each rejection worded and ``param``-ed as OpenAI's.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from conformance.mock.content import VOCABULARY
from conformance.mock.json_schema import strict_schema_problems
from conformance.mock.messages import (
    ErrorSpec,
    MockError,
    invalid_type,
    invalid_value,
    missing_parameter,
    unknown_parameter,
)
from conformance.mock.validation import (
    Rule,
    array_rule,
    boolean,
    check_fields,
    integer,
    number,
    object_rule,
    one_of,
    sdk_body_fields,
    stop_rule,
    string,
    string_map,
)

ROLES = ("system", "assistant", "user", "function", "tool", "developer")
PART_TYPES = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "image_url", "input_audio", "file"),
    "assistant": ("text", "refusal"),
    "tool": ("text",),
}
TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"RIFF")
IMAGE_TOKENS = 85  # what OpenAI counts for a low-detail image


def stream_options_rule(name: str, value: Any) -> ErrorSpec | None:
    if not isinstance(value, dict):
        return invalid_type(name, "an object", value)
    for key, item in value.items():
        if key not in ("include_usage", "include_obfuscation"):
            return unknown_parameter(f"{name}.{key}")
        if not isinstance(item, bool):
            return invalid_type(f"{name}.{key}", "a boolean", item)
    return None


def tool_choice_rule(name: str, value: Any) -> ErrorSpec | None:
    if isinstance(value, str):
        return one_of("none", "auto", "required")(name, value)
    return None if isinstance(value, dict) else invalid_type(name, "a string or object", value)


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
    "safety_identifier": string,
    "prompt_cache_key": string,
    "metadata": string_map(string),
    "tools": array_rule,
    "tool_choice": tool_choice_rule,
    "parallel_tool_calls": boolean,
    "response_format": object_rule,
    "store": boolean,
    "service_tier": one_of("auto", "default", "flex", "scale", "priority", "fast"),
    "reasoning_effort": one_of("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "verbosity": one_of("low", "medium", "high"),
    "modalities": array_rule,
}


@dataclass(frozen=True)
class FunctionTool:
    name: str
    parameters: dict[str, Any]
    strict: bool


# an explicit length in the prompt, and the most the mock will write for one
ASKED_LENGTH = re.compile(r"\b(\d{1,4})[- ]words?\b", re.IGNORECASE)
MAX_ASKED_WORDS = 1000


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
    tools: tuple[FunctionTool, ...] = ()
    # "none" | "auto" | "required" | the name of the one function to call
    tool_choice: str = "auto"
    named_tool: str | None = None
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] = field(default_factory=lambda: {"type": "text"})
    logprobs: bool = False
    top_logprobs: int = 0
    banned_words: frozenset[str] = frozenset()
    images: int = 0

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
            "safety_identifier",
            "prompt_cache_key",
            "parallel_tool_calls",
        }
        return {k: v for k, v in self.raw.items() if k not in ignored}

    @property
    def last_role(self) -> str:
        return str(self.messages[-1].get("role"))

    @property
    def asked_words(self) -> int:
        """The length the last message asks for ("a 300-word essay", "in 50 words"), 0 if none: a
        model asked for length writes at length, so a small token limit cuts it."""
        asked = ASKED_LENGTH.search(_text_of(self.messages[-1])) if self.messages else None
        return min(int(asked.group(1)), MAX_ASKED_WORDS) if asked else 0

    def tool(self, name: str) -> FunctionTool | None:
        return next((t for t in self.tools if t.name == name), None)


def _text_of(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def validate_image(where: str, part: dict[str, Any]) -> None:
    """An ``image_url`` part as OpenAI checks it: an http(s) URL, or a data URL of a real image."""
    image = part.get("image_url")
    if not isinstance(image, dict) or not isinstance(image.get("url"), str):
        raise MockError(missing_parameter(f"{where}.image_url.url"))
    if image.get("detail") not in (None, "auto", "low", "high"):
        raise MockError(
            one_of("auto", "low", "high")(f"{where}.image_url.detail", image.get("detail"))
            or invalid_value(f"{where}.image_url.detail", "Invalid detail.")
        )
    url: str = image["url"]
    if url.startswith(("http://", "https://")):
        return  # the mock never fetches: a well-formed URL is an image
    match = re.match(r"^data:image/(png|jpeg|jpg|gif|webp);base64,(.*)$", url, re.DOTALL)
    if not match:
        raise MockError(
            invalid_value(
                f"{where}.image_url.url",
                "Invalid image URL: expected an http(s) URL or a base64 data URL of an image.",
                "invalid_image_url",
            )
        )
    try:
        data = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data.startswith(IMAGE_MAGIC):
        raise MockError(
            invalid_value(
                f"{where}.image_url.url",
                "You uploaded an unsupported image. Please make sure your image is valid.",
                "invalid_image_format",
            )
        )


def _validate_tool_call(where: str, call: Any) -> str:
    if not isinstance(call, dict):
        raise MockError(invalid_type(where, "an object", call))
    if not isinstance(call.get("id"), str) or not call["id"]:
        raise MockError(missing_parameter(f"{where}.id"))
    if call.get("type", "function") == "function":
        function = call.get("function")
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise MockError(missing_parameter(f"{where}.function.name"))
        if not isinstance(function.get("arguments"), str):
            raise MockError(invalid_type(f"{where}.function.arguments", "a string", function.get("arguments")))
    return str(call["id"])


def _validate_messages(messages: list[Any]) -> int:
    """Validate every message, and that tool calls and tool results pair up. Returns the image count."""
    images = 0
    pending: list[str] = []  # tool_call ids still to be answered
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise MockError(invalid_type(where, "an object", message))
        role = message.get("role")
        if role is None:
            raise MockError(missing_parameter(f"{where}.role"))
        if role not in ROLES:
            listed = ", ".join(f"'{r}'" for r in ROLES)
            raise MockError(invalid_value(f"{where}.role", f"Invalid value: '{role}'. Supported values are: {listed}."))
        if pending and role != "tool":
            raise MockError(
                invalid_value(
                    "messages",
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to "
                    f"each 'tool_call_id'. The following tool_call_ids did not have response messages: {pending[0]}",
                )
            )
        content = message.get("content")
        calls = message.get("tool_calls")
        if content is None:
            if not (
                role == "assistant"
                and (calls or message.get("function_call") or "content" in message or message.get("refusal"))
            ):
                raise MockError(missing_parameter(f"{where}.content"))
        elif isinstance(content, list):
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
                allowed = PART_TYPES.get(str(role), ("text",))
                if part.get("type") not in allowed:
                    listed = ", ".join(f"'{t}'" for t in allowed)
                    raise MockError(
                        invalid_value(
                            f"{part_where}.type",
                            f"Invalid value: '{part.get('type')}'. Supported values are: {listed}.",
                        )
                    )
                if part["type"] == "text" and not isinstance(part.get("text"), str):
                    raise MockError(invalid_type(f"{part_where}.text", "a string", part.get("text")))
                if part["type"] == "image_url":
                    validate_image(part_where, part)
                    images += 1
                if part["type"] in ("input_audio", "file"):
                    raise MockError(
                        invalid_value(f"{part_where}.type", f"This model does not support '{part['type']}' content.")
                    )
        elif not isinstance(content, str):
            raise MockError(invalid_type(f"{where}.content", "a string or array", content))
        if "name" in message and not isinstance(message["name"], str):
            raise MockError(invalid_type(f"{where}.name", "a string", message["name"]))
        if role == "assistant" and calls is not None:
            if not isinstance(calls, list):
                raise MockError(invalid_type(f"{where}.tool_calls", "an array", calls))
            pending = [_validate_tool_call(f"{where}.tool_calls[{i}]", call) for i, call in enumerate(calls)]
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str):
                raise MockError(missing_parameter(f"{where}.tool_call_id"))
            if call_id not in pending:
                raise MockError(
                    invalid_value(
                        f"{where}.role",
                        "Invalid parameter: messages with role 'tool' must be a response to a preceding "
                        "message with 'tool_calls'.",
                    )
                )
            pending.remove(call_id)
    return images


def _parse_tools(body: dict[str, Any]) -> tuple[FunctionTool, ...]:
    tools = body.get("tools")
    if tools is None:
        return ()
    parsed = []
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise MockError(invalid_type(where, "an object", tool))
        kind = tool.get("type")
        if kind == "custom":
            custom = tool.get("custom") or {}
            if not isinstance(custom.get("name"), str) or not TOOL_NAME.match(custom["name"]):
                raise MockError(missing_parameter(f"{where}.custom.name"))
            parsed.append(FunctionTool(custom["name"], {"type": "string"}, False))
            continue
        if kind != "function":
            raise MockError(one_of("function", "custom")(f"{where}.type", kind) or invalid_value(f"{where}.type", "x"))
        function = tool.get("function")
        if not isinstance(function, dict):
            raise MockError(missing_parameter(f"{where}.function"))
        name = function.get("name")
        if not isinstance(name, str):
            raise MockError(missing_parameter(f"{where}.function.name"))
        if not TOOL_NAME.match(name):
            raise MockError(
                invalid_value(
                    f"{where}.function.name",
                    f"Invalid '{where}.function.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    "invalid_value",
                )
            )
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, dict):
            raise MockError(invalid_type(f"{where}.function.parameters", "an object", parameters))
        strict = bool(function.get("strict"))
        if strict:
            problems = strict_schema_problems(parameters)
            if problems:
                raise MockError(
                    invalid_value(
                        f"{where}.function.parameters",
                        f"Invalid schema for function '{name}': {problems[0]}.",
                        "invalid_function_parameters",
                    )
                )
        parsed.append(FunctionTool(name, parameters, strict))
    if len({t.name for t in parsed}) != len(parsed):
        raise MockError(invalid_value("tools", "Tool names must be unique."))
    return tuple(parsed)


def _parse_tool_choice(body: dict[str, Any], tools: tuple[FunctionTool, ...]) -> tuple[str, str | None]:
    choice = body.get("tool_choice")
    if choice is None:
        return ("auto" if tools else "none"), None
    if not tools:
        raise MockError(invalid_value("tool_choice", "'tool_choice' is only allowed when 'tools' are specified."))
    if isinstance(choice, str):
        return choice, None
    kind = choice.get("type")
    if kind == "allowed_tools":
        allowed = choice.get("allowed_tools") or {}
        mode = allowed.get("mode", "auto")
        if mode not in ("auto", "required"):
            raise MockError(
                one_of("auto", "required")("tool_choice.allowed_tools.mode", mode) or invalid_value("tool_choice", "x")
            )
        return mode, None
    key = "custom" if kind == "custom" else "function"
    if kind not in ("function", "custom") or not isinstance((choice.get(key) or {}).get("name"), str):
        raise MockError(
            invalid_value(
                "tool_choice",
                "Invalid value for 'tool_choice': expected an object with "
                "'type': 'function' and 'function': {'name': ...}.",
            )
        )
    name = choice[key]["name"]
    if name not in {t.name for t in tools}:
        raise MockError(
            invalid_value("tool_choice", f"Invalid value for 'tool_choice': tool '{name}' is not in 'tools'.")
        )
    return "required", name


def _parse_response_format(body: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    fmt = body.get("response_format") or {"type": "text"}
    kind = fmt.get("type")
    if kind not in ("text", "json_object", "json_schema"):
        raise MockError(
            one_of("text", "json_object", "json_schema")("response_format.type", kind)
            or invalid_value("response_format.type", "x")
        )
    if kind == "json_object" and not any("json" in _text_of(m).lower() for m in messages):
        raise MockError(
            invalid_value(
                "messages",
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
            )
        )
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if not isinstance(spec, dict):
            raise MockError(missing_parameter("response_format.json_schema"))
        if not isinstance(spec.get("name"), str) or not TOOL_NAME.match(spec["name"]):
            raise MockError(missing_parameter("response_format.json_schema.name"))
        schema = spec.get("schema", {"type": "object"})
        if not isinstance(schema, dict):
            raise MockError(invalid_type("response_format.json_schema.schema", "an object", schema))
        if spec.get("strict"):
            problems = strict_schema_problems(schema)
            if problems:
                raise MockError(
                    invalid_value(
                        "response_format",
                        f"Invalid schema for response_format '{spec['name']}': {problems[0]}.",
                        "invalid_json_schema",
                    )
                )
    return fmt


def _banned_words(body: dict[str, Any]) -> frozenset[str]:
    """logit_bias keys are token ids: in the mock, indexes into its vocabulary. -100 bans."""
    banned = set()
    for key, bias in (body.get("logit_bias") or {}).items():
        if not key.isdigit():
            raise MockError(invalid_value("logit_bias", f"Invalid key in 'logit_bias': '{key}' is not a token id."))
        if bias <= -100 and int(key) < len(VOCABULARY):
            banned.add(VOCABULARY[int(key)])
    return frozenset(banned)


def parse_chat_request(body: Any) -> ChatRequest:
    if not isinstance(body, dict):
        raise MockError(ErrorSpec(400, "The request body must be a JSON object.", "validation"))
    for required in ("model", "messages"):
        if body.get(required) is None:
            raise MockError(missing_parameter(required))
    check_fields(
        body, CHAT_RULES, sdk_body_fields("openai.types.chat.completion_create_params", "CompletionCreateParamsBase")
    )
    messages = body["messages"]
    if not messages:
        raise MockError(
            invalid_value(
                "messages",
                "Invalid 'messages': empty array. Expected an array with minimum "
                "length 1, but got an empty array instead.",
                "empty_array",
            )
        )
    images = _validate_messages(messages)
    stream = bool(body.get("stream"))
    options = body.get("stream_options")
    if options is not None and not stream:
        raise MockError(
            invalid_value("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
        )
    if body.get("top_logprobs") is not None and not body.get("logprobs"):
        raise MockError(invalid_value("top_logprobs", "'top_logprobs' requires 'logprobs' to be true."))
    if "audio" in (body.get("modalities") or ()) or body.get("audio") is not None:
        raise MockError(invalid_value("modalities", "This model does not support audio output."))
    if body.get("web_search_options") is not None:
        raise MockError(invalid_value("web_search_options", "This model does not support web search."))
    tools = _parse_tools(body)
    if body.get("parallel_tool_calls") is not None and not tools:
        raise MockError(
            invalid_value("parallel_tool_calls", "'parallel_tool_calls' is only allowed when 'tools' are specified.")
        )
    tool_choice, named = _parse_tool_choice(body, tools)
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
        tools=tools,
        tool_choice=tool_choice,
        named_tool=named,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=_parse_response_format(body, messages),
        logprobs=bool(body.get("logprobs")),
        top_logprobs=int(body.get("top_logprobs") or 0),
        banned_words=_banned_words(body),
        images=images,
    )
