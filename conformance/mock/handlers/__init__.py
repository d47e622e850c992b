"""The mock's endpoints, one module per group, every handler of one shape:

``async def handler(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse``

``match`` is the route's match (its named groups: ``model``, ``completion_id``...). A handler builds
OpenAI's faithful answer, raising ``MockError`` for OpenAI's error, and passes what a quirk may
change through ``state.pipeline``. ``mock/routes.py`` binds handlers to routes. Handlers depend on
the mock's vocabulary, its state and its request and content modules, never on the ASGI app.
"""
