"""The mock's chat completions machinery: the request as parsed and validated (``request``), what
the model "generates" for each choice (``generation``), and how a completion or its stream of chunks
is rendered (``render``). The handler in ``mock/handlers/chat.py`` puts them together; quirks reach
them through the pipeline's hooks. Depends on the mock's vocabulary, validation rules and content.
"""
