"""Collectors: pure functions that turn a fetched page or API answer into facts (no network).

Also home of non-crawl collectors (DNS checks, file imports). Every rule returns :class:`Finding`
objects that carry their evidence and the rule id/version that produced them.
"""
