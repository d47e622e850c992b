"""The checks, one module per area. Each check is a small function bound to one catalog ID.

Beside the area modules, three private ones hold what they share; an area module imports those,
never another area module:

* ``_requests``: every request several features judge, sent once per run (the run's cost model);
* ``_judges``: judging helpers (error envelopes, usage arithmetic, tool calls);
* ``_common``: payloads, request helpers and readers of the answers.

Run them through ``conformance run`` or through pytest: ``pytest --pyargs conformance.checks``
with the plugin's ``--conformance-*`` options (the plugin is registered as a pytest11 entry point).
"""
