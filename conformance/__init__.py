"""openai-conformance: certify that an "OpenAI-compatible" HTTP API really is one.

The public surface is small: the command line (``conformance``), the pytest plugin
(``conformance.plugin``) and the files a run writes (``results.json`` and its reports).
"""

__version__ = "0.1.0"
TOOL_NAME = "openai-conformance"
