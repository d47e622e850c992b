"""Input items as OpenAI reads them, and the conversation they make for the model.

``input`` is a string (one user message) or a list of items: messages (roles user, system,
developer, assistant; content a string or parts), ``function_call`` and ``function_call_output``
items, ``item_reference`` (an item of a kept response, by id), ``reasoning`` items passed back, and
``compaction`` items from POST /responses/compact. Each is normalised to the shape GET
/responses/{id}/input_items lists, with an id. The context a response answers is the previous
response's context, input and output (``previous_response_id``) followed by its own input; that
context becomes chat messages, so the chat machinery plans the reply.

A compaction item's ``encrypted_content`` is opaque to clients; in the mock it carries the items it
stands for, so a conversation continued from it is the same conversation.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from typing import Any

from conformance.mock.chat.request import validate_image
from conformance.mock.messages import MockError, invalid_type, invalid_value, missing_parameter

ROLES = ("user", "assistant", "system", "developer")
INPUT_PARTS = ("input_text", "input_image", "input_file")
ASSISTANT_PARTS = ("output_text", "refusal", "input_text")
IMAGE_DETAILS = ("auto", "low", "high", "original")
COMPACTION_PREFIX = "mock-compaction:"

# an item of a kept response by its id, or None (state.responses.find_item)
Resolver = Callable[[str], "dict[str, Any] | None"]


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def normalize_input(value: Any, resolve: Resolver) -> list[dict[str, Any]]:
    """The request's ``input`` as a list of items, each with an id, as input_items lists them."""
    if isinstance(value, str):
        return [message_item("user", [{"type": "input_text", "text": value}])]
    if not isinstance(value, list):
        raise MockError(invalid_type("input", "a string or an array of input items", value))
    if not value:
        raise MockError(
            invalid_value(
                "input",
                "Invalid 'input': empty array. Expected an array with minimum length 1, but got an empty array "
                "instead.",
                "empty_array",
            )
        )
    return [_item(f"input[{index}]", item, resolve) for index, item in enumerate(value)]


def message_item(role: str, content: list[dict[str, Any]], item_id: str | None = None) -> dict[str, Any]:
    return {"id": item_id or new_id("msg"), "type": "message", "role": role, "status": "completed", "content": content}


def _item(where: str, item: Any, resolve: Resolver) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise MockError(invalid_type(where, "an object", item))
    kind = item.get("type", "message" if "role" in item else None)
    if kind == "message":
        return _message(where, item)
    if kind == "function_call":
        for name in ("call_id", "name"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise MockError(missing_parameter(f"{where}.{name}"))
        if not isinstance(item.get("arguments"), str):
            raise MockError(invalid_type(f"{where}.arguments", "a string", item.get("arguments")))
        return {
            "id": item.get("id") or new_id("fc"),
            "type": "function_call",
            "status": item.get("status") or "completed",
            "call_id": item["call_id"],
            "name": item["name"],
            "arguments": item["arguments"],
        }
    if kind == "function_call_output":
        if not isinstance(item.get("call_id"), str) or not item["call_id"]:
            raise MockError(missing_parameter(f"{where}.call_id"))
        output = item.get("output")
        if not isinstance(output, (str, list)):
            raise MockError(invalid_type(f"{where}.output", "a string or array", output))
        return {
            "id": item.get("id") or new_id("fco"),
            "type": "function_call_output",
            "status": item.get("status") or "completed",
            "call_id": item["call_id"],
            "output": output,
        }
    if kind == "item_reference":
        if not isinstance(item.get("id"), str):
            raise MockError(missing_parameter(f"{where}.id"))
        found = resolve(item["id"])
        if found is None:
            raise MockError(invalid_value(f"{where}.id", f"Item with id '{item['id']}' not found.", "item_not_found"))
        return found
    if kind == "reasoning":
        if not isinstance(item.get("summary"), list):
            raise MockError(missing_parameter(f"{where}.summary"))
        return {**item, "id": item.get("id") or new_id("rs")}
    if kind == "compaction":
        if not isinstance(item.get("encrypted_content"), str):
            raise MockError(missing_parameter(f"{where}.encrypted_content"))
        _compacted(where, item["encrypted_content"])  # refused now, not when a later turn reads it
        return {
            "id": item.get("id") or new_id("cmp"),
            "type": "compaction",
            "encrypted_content": item["encrypted_content"],
        }
    if kind is None:
        raise MockError(missing_parameter(f"{where}.type"))
    raise MockError(
        invalid_value(
            f"{where}.type", f"The reference mock does not take input items of type '{kind}'.", "unsupported_value"
        )
    )


def _message(where: str, item: dict[str, Any]) -> dict[str, Any]:
    role = item.get("role")
    if role is None:
        raise MockError(missing_parameter(f"{where}.role"))
    if role not in ROLES:
        raise MockError(
            invalid_value(f"{where}.role", f"Invalid value: '{role}'. Supported values are: {_listed(ROLES)}.")
        )
    content = item.get("content")
    assistant = role == "assistant"
    if isinstance(content, str):
        parts: list[dict[str, Any]] = [_text_part(content, assistant)]
    elif isinstance(content, list):
        parts = [_part(f"{where}.content[{index}]", part, assistant) for index, part in enumerate(content)]
    elif content is None:
        raise MockError(missing_parameter(f"{where}.content"))
    else:
        raise MockError(invalid_type(f"{where}.content", "a string or array", content))
    normalized = message_item(str(role), parts, item.get("id"))
    if assistant:
        normalized["status"] = item.get("status") or "completed"
        if item.get("phase") is not None:
            normalized["phase"] = item["phase"]
    return normalized


def _text_part(text: str, assistant: bool) -> dict[str, Any]:
    if assistant:  # an assistant's words are output text, as input_items lists them
        return {"type": "output_text", "text": text, "annotations": []}
    return {"type": "input_text", "text": text}


def _part(where: str, part: Any, assistant: bool) -> dict[str, Any]:
    if not isinstance(part, dict):
        raise MockError(invalid_type(where, "an object", part))
    kind = part.get("type")
    allowed = ASSISTANT_PARTS if assistant else INPUT_PARTS
    if kind not in allowed:
        raise MockError(
            invalid_value(f"{where}.type", f"Invalid value: '{kind}'. Supported values are: {_listed(allowed)}.")
        )
    if kind == "refusal":
        if not isinstance(part.get("refusal"), str):
            raise MockError(invalid_type(f"{where}.refusal", "a string", part.get("refusal")))
        return {"type": "refusal", "refusal": part["refusal"]}
    if kind in ("input_text", "output_text"):
        if not isinstance(part.get("text"), str):
            raise MockError(invalid_type(f"{where}.text", "a string", part.get("text")))
        if kind == "output_text":
            return {**part, "annotations": part.get("annotations") or []}
        return _text_part(part["text"], assistant)
    if kind == "input_file":
        raise MockError(
            invalid_value(f"{where}.type", "The reference mock does not read files: 'input_file' is not supported.")
        )
    detail = part.get("detail", "auto")
    if detail not in IMAGE_DETAILS:
        raise MockError(
            invalid_value(
                f"{where}.detail", f"Invalid value: '{detail}'. Supported values are: {_listed(IMAGE_DETAILS)}."
            )
        )
    if isinstance(part.get("image_url"), str):
        # the same rule as chat's image_url parts, answered under this part's own name
        validate_image(where, {"image_url": {"url": part["image_url"]}})
    elif not isinstance(part.get("file_id"), str):
        raise MockError(missing_parameter(f"{where}.image_url"))
    return {**part, "detail": detail}


# --- compaction ---------------------------------------------------------------------------------


def compaction_item(items: list[dict[str, Any]]) -> dict[str, Any]:
    """A compaction item standing for ``items``: they travel, encoded, in its encrypted_content."""
    encoded = base64.urlsafe_b64encode(json.dumps(items, ensure_ascii=False).encode()).decode()
    return {"id": new_id("cmp"), "type": "compaction", "encrypted_content": COMPACTION_PREFIX + encoded}


def _compacted(where: str, content: str) -> list[dict[str, Any]]:
    try:
        if not content.startswith(COMPACTION_PREFIX):
            raise ValueError(content)
        items = json.loads(base64.urlsafe_b64decode(content.removeprefix(COMPACTION_PREFIX).encode()))
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError(content)
        return items
    except (ValueError, binascii.Error):
        raise MockError(
            invalid_value(
                f"{where}.encrypted_content",
                "The encrypted content could not be decrypted or parsed.",
                "invalid_encrypted_content",
            )
        ) from None


def expanded(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items with every compaction item replaced by the items it stands for."""
    out: list[dict[str, Any]] = []
    for item in items:
        if item.get("type") == "compaction":
            out += expanded(_compacted("input", str(item.get("encrypted_content", ""))))
        else:
            out.append(item)
    return out


# --- the context as the model reads it ------------------------------------------------------------


def check_tool_outputs(context: list[dict[str, Any]]) -> None:
    """Every function_call_output answers an earlier function_call, and every call is answered."""
    pending: list[str] = []
    for item in context:
        if item.get("type") == "function_call":
            pending.append(str(item.get("call_id")))
        elif item.get("type") == "function_call_output":
            call_id = str(item.get("call_id"))
            if call_id not in pending:
                raise MockError(
                    invalid_value("input", f"No tool call found for function call output with call_id {call_id}.")
                )
            pending.remove(call_id)
    if pending:
        raise MockError(invalid_value("input", f"No tool output found for function call {pending[0]}."))


def part_text(part: dict[str, Any]) -> str:
    return str(part.get("refusal") if part.get("type") == "refusal" else part.get("text", ""))


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    return " ".join(part_text(part) for part in output if isinstance(part, dict) and "text" in part)


def chat_messages(instructions: str | None, context: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The context as chat messages (instructions first, as a developer message), and its images."""
    messages: list[dict[str, Any]] = []
    images = 0
    if instructions:
        messages.append({"role": "developer", "content": instructions})
    for item in expanded(context):
        kind = item.get("type")
        if kind == "message":
            parts = item.get("content") or []
            images += sum(1 for part in parts if part.get("type") == "input_image")
            text = " ".join(part_text(part) for part in parts if part.get("type") != "input_image")
            messages.append({"role": item["role"], "content": text})
        elif kind == "function_call":
            call = {
                "id": item["call_id"],
                "type": "function",
                "function": {"name": item["name"], "arguments": item["arguments"]},
            }
            last = messages[-1] if messages else {}
            if last.get("role") == "assistant" and last.get("tool_calls") and last.get("content") is None:
                last["tool_calls"].append(call)  # parallel calls: one assistant turn
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": _output_text(item["output"])})
        # a reasoning item passed back is the model's own hidden reasoning: nothing to read
    return messages, images


def truncated(context: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The context without its oldest item (``truncation: "auto"``), and without a tool output whose
    call went with it."""
    rest = context[1:]
    while rest and rest[0].get("type") == "function_call_output":
        rest = rest[1:]
    return rest
