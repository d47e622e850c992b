"""The checks, one module per area. Each check is a small function bound to one catalog ID.

Run them through ``conformance run`` or through pytest: ``pytest --pyargs conformance.checks``
with the plugin's ``--conformance-*`` options (the plugin is registered as a pytest11 entry point).
"""
