"""What a real chat model chooses, as benign quirks: outcomes of sampling the server does not control.

A small real model rambles past a short ``max_tokens``, words the same request differently each
time, leaves out a tool argument or answers in text under ``tool_choice: "auto"``. OpenAI's own API
reference says a client must expect all of that (each row's source quotes where), so none of it may
make a feature nonconformant: a row here is ``model=True``, detects nothing, and changes no verdict.
Everything the server controls stays exact: forced calls are made, ``strict: true`` schemas and
``json_object`` are followed, stop sequences and limits are honoured and reported, and a request with
``seed`` or ``temperature: 0`` is answered deterministically (see ``chat/generation.py``).

Each row turns one knob of :class:`~conformance.mock.chat.generation.Sampling`; the ``chatty``
profile (``mock/profiles.py``) switches them all on, and the mock's seed (``MockServer(seed=...)``,
``conformance run --mock-seed N``) makes a run reproducible.
"""

from __future__ import annotations

from conformance.mock.chat.generation import Sampling
from conformance.mock.effects import Effects
from conformance.mock.quirks._model import Quirk

# OpenAI's API reference, as openai-python carries it in its generated types (the same text as the
# published reference pages)
_TYPES = "https://github.com/openai/openai-python/blob/main/src/openai/types"
CREATE_PARAMS = f"{_TYPES}/chat/completion_create_params.py"
COMPLETION = f"{_TYPES}/chat/chat_completion.py"
TOOL_CALL = f"{_TYPES}/chat/chat_completion_message_function_tool_call.py"
FUNCTION_DEFINITION = f"{_TYPES}/shared/function_definition.py"
JSON_OBJECT = f"{_TYPES}/shared/response_format_json_object.py"
JSON_SCHEMA = f"{_TYPES}/shared/response_format_json_schema.py"

ARGUMENTS_ARE_THE_MODELS = (
    f'{TOOL_CALL} (`arguments`: "the model does not always generate valid JSON, and may hallucinate parameters '
    'not defined by your function schema. Validate the arguments in your code before calling your function"); '
    f'{FUNCTION_DEFINITION} (`strict`: only "if set to true, the model will follow the exact schema")'
)

TABLE: tuple[Quirk, ...] = (
    Quirk(
        "model.sampling_varies",
        "chat",
        "Identical requests get differently worded replies, calls and JSON values, and a streamed reply differs "
        "from the non-streamed one, unless they send `seed` or `temperature: 0` (answered deterministically).",
        f'{CREATE_PARAMS} (`temperature`: "higher values like 0.8 will make the output more random"; `seed`: '
        '"our system will make a best effort to sample deterministically ... Determinism is not guaranteed")',
        Effects(sampling=Sampling(varies=True)),
        model=True,
    ),
    Quirk(
        "model.verbose_replies",
        "chat",
        "Prose replies run two to five sentences, so a small `max_tokens` cuts them: finish_reason 'length', "
        "with usage saying so.",
        f'{COMPLETION} (`finish_reason`: "`length` if the maximum number of tokens specified in the request was '
        f'reached"); {CREATE_PARAMS} (`max_completion_tokens`: "an upper bound for the number of tokens that can '
        'be generated")',
        Effects(sampling=Sampling(sentences=(2, 5))),
        model=True,
    ),
    Quirk(
        "model.optional_arguments_omitted",
        "tools",
        "Optional tool arguments (and optional properties of a non-strict json_schema) are left out about half "
        "the time.",
        ARGUMENTS_ARE_THE_MODELS,
        Effects(sampling=Sampling(omit_optional=0.5)),
        model=True,
    ),
    Quirk(
        "model.required_argument_omitted",
        "tools",
        "A non-strict tool call (or non-strict json_schema reply) leaves out one of several required properties "
        "about a quarter of the time; with `strict: true` the schema is always followed.",
        ARGUMENTS_ARE_THE_MODELS,
        Effects(sampling=Sampling(omit_required=0.25)),
        model=True,
    ),
    Quirk(
        "model.text_under_auto",
        "tools",
        'Under `tool_choice: "auto"` the model answers in text instead of calling about a third of the time.',
        f'{CREATE_PARAMS} (`tool_choice`: "`auto` means the model can pick between generating a message or calling '
        'one or more tools")',
        Effects(sampling=Sampling(text_under_auto=0.3)),
        model=True,
    ),
    Quirk(
        "model.fewer_parallel_calls",
        "tools",
        "Asked for several tools at once (parallel calls allowed), the model calls only one of them about a third "
        "of the time.",
        f'{CREATE_PARAMS} (`parallel_tool_calls`: "whether to enable parallel function calling during tool use": it '
        "allows several calls, it does not make them)",
        Effects(sampling=Sampling(fewer_parallel_calls=0.3)),
        model=True,
    ),
    Quirk(
        "model.free_json",
        "structured",
        "`json_object` replies are small JSON objects of the model's own shape; strict `json_schema` replies vary "
        "in their values and always validate.",
        f'{JSON_OBJECT} (json_object fixes no shape: the instructions do); {JSON_SCHEMA} (`strict`: "if set to '
        'true, the model will always follow the exact schema")',
        Effects(sampling=Sampling(free_json=True)),
        model=True,
    ),
)

# the chatty profile: every row above
CHATTY: tuple[str, ...] = tuple(quirk.id for quirk in TABLE)
