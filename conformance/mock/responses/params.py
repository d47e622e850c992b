"""Parsing and validating the bodies of POST /responses, /responses/input_tokens and
/responses/compact, as OpenAI does.

Field types and ranges come from the rule table (``mock/validation.py``), the fields each endpoint
knows from the pinned SDK's params types; the structure that spans fields (tools and
``tool_choice``, ``text.format`` and its strict schema, ``stream_options`` without ``stream``,
``background`` without ``store``) is checked here, each rejection worded and ``param``-ed as
OpenAI's. What the mock cannot honour (``NOT_SERVED``: conversations, stored prompts, moderation,
automatic compaction; hosted tools; file inputs) is refused with a 400 naming it, never ignored.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from conformance.mock.chat.request import TOOL_NAME, FunctionTool
from conformance.mock.json_schema import strict_schema_problems
from conformance.mock.messages import (
    ErrorSpec,
    MockError,
    invalid_type,
    invalid_value,
    missing_parameter,
    unknown_parameter,
)
from conformance.mock.responses.conversation import Resolver, normalize_input
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
    string,
    string_map,
)

# endpoint -> the SDK params type listing the body fields it takes
PARAMS_TYPES = {
    "create": ("openai.types.responses.response_create_params", "ResponseCreateParamsBase"),
    "input_tokens": ("openai.types.responses.input_token_count_params", "InputTokenCountParams"),
    "compact": ("openai.types.responses.response_compact_params", "ResponseCompactParams"),
}
NOT_SERVED = {
    "conversation": "The reference mock keeps no conversations: send the history as input, or continue with "
    "previous_response_id.",
    "prompt": "The reference mock has no stored prompts: send the instructions and input instead.",
    "moderation": "The reference mock does not moderate input or output.",
    "context_management": "The reference mock does not compact the context on its own: call POST /responses/compact.",
}
SUMMARIES = ("auto", "concise", "detailed")


@cache
def sdk_literal(module: str, name: str) -> tuple[str, ...]:
    """The values of one of the pinned SDK's Literal aliases (Optional and unions flattened)."""
    pending: list[Any] = [getattr(importlib.import_module(module), name)]
    values: list[str] = []
    while pending:
        alias = pending.pop(0)
        arguments = typing.get_args(alias)
        if typing.get_origin(alias) is typing.Literal:
            values += [a for a in arguments if isinstance(a, str)]
        else:
            pending += list(arguments)
    return tuple(values)


def _includable() -> tuple[str, ...]:
    return sdk_literal("openai.types.responses.response_includable", "ResponseIncludable")


def _include_rule(name: str, value: Any) -> ErrorSpec | None:
    if not isinstance(value, list):
        return invalid_type(name, "an array", value)
    for index, item in enumerate(value):
        problem = one_of(*_includable())(f"{name}[{index}]", item)
        if problem:
            return problem
    return None


def _reasoning_rule(name: str, value: Any) -> ErrorSpec | None:
    if not isinstance(value, dict):
        return invalid_type(name, "an object", value)
    efforts = sdk_literal("openai.types.shared.reasoning_effort", "ReasoningEffort")
    for key, rule in (
        ("effort", one_of(*efforts)),
        ("summary", one_of(*SUMMARIES)),
        ("generate_summary", one_of(*SUMMARIES)),
    ):
        if value.get(key) is not None and (problem := rule(f"{name}.{key}", value[key])):
            return problem
    return None


def _stream_options_rule(name: str, value: Any) -> ErrorSpec | None:
    if not isinstance(value, dict):
        return invalid_type(name, "an object", value)
    for key, item in value.items():
        if key != "include_obfuscation":
            return unknown_parameter(f"{name}.{key}")
        if not isinstance(item, bool):
            return invalid_type(f"{name}.{key}", "a boolean", item)
    return None


def _tool_choice_rule(name: str, value: Any) -> ErrorSpec | None:
    if isinstance(value, str):
        return one_of("none", "auto", "required")(name, value)
    return None if isinstance(value, dict) else invalid_type(name, "a string or object", value)


RESPONSES_RULES: dict[str, Rule] = {
    "model": string,
    "input": lambda name, value: None,  # structure: conversation.normalize_input
    "instructions": string,
    "max_output_tokens": integer(16),
    "max_tool_calls": integer(0),
    "metadata": string_map(string),
    "parallel_tool_calls": boolean,
    "previous_response_id": string,
    "store": boolean,
    "stream": boolean,
    "stream_options": _stream_options_rule,
    "temperature": number(0, 2),
    "top_p": number(0, 1),
    "top_logprobs": integer(0, 20),
    "truncation": one_of("auto", "disabled"),
    "user": string,
    "safety_identifier": string,
    "prompt_cache_key": string,
    "prompt_cache_retention": one_of("in_memory", "24h"),
    "prompt_cache_options": object_rule,
    "service_tier": one_of("auto", "default", "flex", "scale", "priority", "fast"),
    "background": boolean,
    "background_options": object_rule,
    "include": _include_rule,
    "reasoning": _reasoning_rule,
    "text": object_rule,
    "tools": array_rule,
    "tool_choice": _tool_choice_rule,
    "access_programs": object_rule,
    "image": object_rule,
    "personality": string,
}


@dataclass(frozen=True)
class ResponsesRequest:
    raw: dict[str, Any]
    model: str | None  # None: POST /responses/input_tokens without one
    input_items: tuple[dict[str, Any], ...]  # this request's own input, normalised, each with an id
    instructions: str | None = None
    previous_response_id: str | None = None
    tools: tuple[FunctionTool, ...] = ()
    tools_echo: tuple[dict[str, Any], ...] = ()  # the tools as the Response reports them
    # "none" | "auto" | "required", and the one function a named choice forces
    tool_choice: str = "auto"
    named_tool: str | None = None
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] = field(default_factory=lambda: {"type": "text"})  # chat's shape
    text_echo: dict[str, Any] = field(default_factory=lambda: {"format": {"type": "text"}, "verbosity": "medium"})
    max_output_tokens: int | None = None
    stream: bool = False
    store: bool = True
    background: bool = False
    truncation: str = "disabled"
    include: frozenset[str] = frozenset()
    top_logprobs: int = 0

    @property
    def logprobs(self) -> bool:
        return "message.output_text.logprobs" in self.include


def _generation_schema(parameters: Any) -> dict[str, Any]:
    """What the arguments are generated from: a schema that names no type or shape is an object's."""
    shaped = ("type", "properties", "$ref", "anyOf", "oneOf", "allOf", "enum", "const")
    if isinstance(parameters, dict) and any(key in parameters for key in shaped):
        return parameters
    return {"type": "object", "properties": {}, "required": [], "additionalProperties": False}


def _parse_tools(body: dict[str, Any]) -> tuple[tuple[FunctionTool, ...], tuple[dict[str, Any], ...]]:
    parsed: list[FunctionTool] = []
    echoed: list[dict[str, Any]] = []
    for index, tool in enumerate(body.get("tools") or ()):
        where = f"tools[{index}]"
        if not isinstance(tool, dict):
            raise MockError(invalid_type(where, "an object", tool))
        kind = tool.get("type")
        if kind is None:
            raise MockError(missing_parameter(f"{where}.type"))
        if kind != "function":
            raise MockError(
                invalid_value(
                    f"{where}.type",
                    f"The reference mock runs no hosted tools: tools of type '{kind}' are not supported.",
                    "unsupported_value",
                )
            )
        name = tool.get("name")
        if not isinstance(name, str):
            raise MockError(missing_parameter(f"{where}.name"))
        if not TOOL_NAME.match(name):
            raise MockError(
                invalid_value(
                    f"{where}.name",
                    f"Invalid '{where}.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                )
            )
        parameters = tool.get("parameters")
        if parameters is not None and not isinstance(parameters, dict):
            raise MockError(invalid_type(f"{where}.parameters", "an object", parameters))
        strict = tool.get("strict")
        if strict is not None and not isinstance(strict, bool):
            raise MockError(invalid_type(f"{where}.strict", "a boolean", strict))
        # a function without parameters (null) takes none: strict mode holds that trivially
        problems = strict_schema_problems(parameters) if parameters is not None else []
        if strict and problems:
            raise MockError(
                invalid_value(
                    f"{where}.parameters",
                    f"Invalid schema for function '{name}': {problems[0]}.",
                    "invalid_function_parameters",
                )
            )
        # strict is the Responses API's default: a schema strict mode can hold is held to it
        effective = strict if strict is not None else not problems
        parsed.append(FunctionTool(name, _generation_schema(parameters), effective))
        echoed.append({**tool, "description": tool.get("description"), "parameters": parameters, "strict": effective})
    if len({t.name for t in parsed}) != len(parsed):
        raise MockError(invalid_value("tools", "Tool names must be unique."))
    return tuple(parsed), tuple(echoed)


def _parse_tool_choice(
    body: dict[str, Any], tools: tuple[FunctionTool, ...]
) -> tuple[tuple[FunctionTool, ...], str, str | None]:
    """The tools the model may call, the mode, and the one function a named choice forces."""
    choice = body.get("tool_choice")
    names = {tool.name for tool in tools}
    if choice is None:
        return tools, "auto", None
    if isinstance(choice, str):
        if choice == "required" and not tools:
            raise MockError(invalid_value("tool_choice", "Tool choice 'required' must be specified with 'tools'."))
        return tools, choice, None
    kind = choice.get("type")
    if kind == "function":
        name = choice.get("name")
        if not isinstance(name, str):
            raise MockError(missing_parameter("tool_choice.name"))
        if name not in names:
            raise MockError(invalid_value("tool_choice", f"Tool choice '{name}' not found in 'tools' parameter."))
        return tools, "required", name
    if kind == "allowed_tools":
        mode = choice.get("mode")
        problem = one_of("auto", "required")("tool_choice.mode", mode)
        if problem:
            raise MockError(problem)
        listed = choice.get("tools")
        if not isinstance(listed, list):
            raise MockError(missing_parameter("tool_choice.tools"))
        allowed = set()
        for index, entry in enumerate(listed):
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or entry.get("type") != "function" or name not in names:
                raise MockError(
                    invalid_value(f"tool_choice.tools[{index}]", "Allowed tools must name function tools in 'tools'.")
                )
            allowed.add(name)
        return tuple(t for t in tools if t.name in allowed), str(mode), None
    raise MockError(
        invalid_value(
            "tool_choice.type",
            f"The reference mock runs no hosted tools: tool_choice of type '{kind}' is not supported.",
            "unsupported_value",
        )
    )


def _parse_text(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``text``: chat's response_format for the model, and the Response's echo of it."""
    text = body.get("text") or {}
    fmt = text.get("format") or {"type": "text"}
    if not isinstance(fmt, dict):
        raise MockError(invalid_type("text.format", "an object", fmt))
    kind = fmt.get("type")
    problem = one_of("text", "json_object", "json_schema")("text.format.type", kind)
    if problem:
        raise MockError(problem)
    verbosity = text.get("verbosity")
    if verbosity is not None and (problem := one_of("low", "medium", "high")("text.verbosity", verbosity)):
        raise MockError(problem)
    echo: dict[str, Any] = {"format": {"type": kind}, "verbosity": verbosity or "medium"}
    if kind != "json_schema":
        return {"type": kind}, echo
    name = fmt.get("name")
    if not isinstance(name, str) or not TOOL_NAME.match(name):
        raise MockError(missing_parameter("text.format.name"))
    schema = fmt.get("schema")
    if not isinstance(schema, dict):
        raise MockError(missing_parameter("text.format.schema"))
    strict = fmt.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise MockError(invalid_type("text.format.strict", "a boolean", strict))
    if strict and (problems := strict_schema_problems(schema)):
        raise MockError(
            invalid_value(
                "text.format.schema",
                f"Invalid schema for response_format '{name}': {problems[0]}.",
                "invalid_json_schema",
            )
        )
    echoed: dict[str, Any] = {"type": "json_schema", "name": name, "schema": schema, "strict": bool(strict)}
    if isinstance(fmt.get("description"), str):
        echoed["description"] = fmt["description"]
    echo["format"] = echoed
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": bool(strict)}}, echo


def parse_request(body: Any, resolve: Resolver, endpoint: str = "create") -> ResponsesRequest:
    """The body of POST /responses (``endpoint`` "create"), /responses/input_tokens or
    /responses/compact, validated; ``resolve`` finds the items an ``item_reference`` names."""
    if not isinstance(body, dict):
        raise MockError(ErrorSpec(400, "The request body must be a JSON object.", "validation"))
    if endpoint != "input_tokens" and body.get("model") is None:
        raise MockError(missing_parameter("model"))
    known = sdk_body_fields(*PARAMS_TYPES[endpoint])
    if endpoint != "create":
        known -= {"stream"}
    check_fields(body, {name: rule for name, rule in RESPONSES_RULES.items() if name in known}, known)
    for name, why in NOT_SERVED.items():
        if body.get(name) is not None:
            raise MockError(invalid_value(name, why, "unsupported_parameter"))
    stream = body.get("stream") is True
    if body.get("stream_options") is not None and not stream:
        raise MockError(
            invalid_value("stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
        )
    store = body.get("store") is not False
    background = body.get("background") is True
    if background and not store:
        raise MockError(invalid_value("background", "Background mode requires 'store' to be true."))
    if body.get("background_options") is not None and not background:
        raise MockError(
            invalid_value("background_options", "'background_options' is only allowed when 'background' is true.")
        )
    previous = body.get("previous_response_id")
    if body.get("input") is None:
        if previous is None and endpoint == "create":
            raise MockError(missing_parameter("input"))
        items: list[dict[str, Any]] = []
    else:
        items = normalize_input(body["input"], resolve)
    tools, tools_echo = _parse_tools(body)
    callable_tools, tool_choice, named = _parse_tool_choice(body, tools)
    response_format, text_echo = _parse_text(body)
    return ResponsesRequest(
        raw=body,
        model=body.get("model"),
        input_items=tuple(items),
        instructions=body.get("instructions"),
        previous_response_id=previous,
        tools=callable_tools,
        tools_echo=tools_echo,
        tool_choice=tool_choice,
        named_tool=named,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=response_format,
        text_echo=text_echo,
        max_output_tokens=body.get("max_output_tokens"),
        stream=stream,
        store=store,
        background=background,
        truncation=body.get("truncation") or "disabled",
        include=frozenset(body.get("include") or ()),
        top_logprobs=body.get("top_logprobs") or 0,
    )
