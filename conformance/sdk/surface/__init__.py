"""The openai SDK's surface (endpoints, types, exceptions): extracted, stored, compared.

This is how a pin bump is audited: ``conformance sdk surface`` reads the installed SDK,
``conformance sdk diff OLD NEW`` compares two surfaces and names the catalog features each change
touches. Surfaces of the SDK lines the project supports ship in ``fixtures/sdk/``.

    extract.py  the installed SDK's surface as a document
    model.py    a stored document read back: a TypeGraph the catalog's paths resolve on
    diff.py     two surfaces compared, each change mapped to catalog features
    text.py     a diff as Markdown, a surface as a field listing
"""
