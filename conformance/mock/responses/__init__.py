"""The mock's Responses API machinery: the request as parsed and validated (``params``), its input
items and the conversation they make (``conversation``), the model's answer as output items and a
Response (``output``), and that Response as a stream of events (``events``).

The model behind it is chat's: the conversation becomes a chat request and ``chat/generation.py``
plans the reply, so the same conversation gets the same deterministic answer on both APIs, and a
sampling model (the chatty profile) samples Responses too. The handler in
``mock/handlers/responses.py`` puts them together. Depends on the mock's vocabulary, validation
rules, content and chat machinery.
"""
