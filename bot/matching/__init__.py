"""Matching a question to the knowledge base: text normalisation, the matcher, its evaluation."""
