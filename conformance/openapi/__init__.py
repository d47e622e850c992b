"""OpenAI's published OpenAPI spec: its errata, and the strict oracle built on it.

errata.py     where the spec disagrees with OpenAI's API, and the fix (one place: the extraction
              script, the Prism test and, through the shipped schemas, the oracle read it)
published.py  the strict oracle: ``results.json`` evidence judged against the shipped schemas
              (``schemas/openai-spec.json``)
"""
