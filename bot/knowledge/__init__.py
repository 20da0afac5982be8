"""The knowledge base in ``faq/``: what it holds, how it is read and checked, and loading it.

- ``model``: the domain types (entries, facts and their figures, sources, topics) and ``Issue``;
- ``reader``: the YAML reader that keeps line numbers and refuses hostile files;
- ``schema``: each record's field types and shapes (hand-written, measured against pydantic), as
  ``file:line: entry-id: message`` issues;
- ``validate``: the checks across records (ids, references, repeated questions) and the warnings;
- ``load``: ``load_knowledge_base``, which runs them all and never raises.
"""
