"""Constants of the State Council website-inspection rules (国办秘函〔2019〕19号 and the 政府网站发展指引
metadata spec) the collectors apply. The sample web's truth writes its own copy as data (it never imports
the crawler); tests/sampleweb/test_truth_boundary.py checks that the two agree."""

# Days after which a column counts as not updated, by column kind.
STALE_AFTER_DAYS = {"news": 14, "notice": 183, "policy": 183}
HOMEPAGE_STALE_AFTER_DAYS = 14

# Required <meta name=...> page tags by page type (政府网站发展指引, 网页标签 spec) live in the portal
# lexicon (collectors/lexicons/portal.yaml, meta_tags); this view is for code that wants a constant.
def _meta_tags_by_page_type() -> dict[str, tuple[str, ...]]:
    from collectors.lexicons import default_portal_lexicon

    tags = default_portal_lexicon().meta_tags
    return {kind: tuple(tags[kind]) for kind in ("home", "column", "article")}


META_TAGS_BY_PAGE_TYPE = _meta_tags_by_page_type()

# Pages the portal spider samples for the meta-tag check and the column checks.
MAX_COLUMNS_SAMPLED = 6          # column pages linked from the home page, in document order
MAX_BROKEN_LINK_SAMPLE = 50      # same-site home-page links checked, in document order


# --- rules over several pages (the portal spider gathers the pages; these read them) -------------------
from datetime import date  # noqa: E402

from collectors.base import ABSENT, OK, Finding  # noqa: E402
from collectors.page import Page  # noqa: E402

RULE_VERSION = "1"


def is_sitemap_xml(page: Page) -> bool:
    """A /sitemap.xml answer that really is a sitemap (not a soft-404 HTML page)."""
    head = page.text[:2000].lower()
    return "<urlset" in head or "<sitemapindex" in head


def column_findings(columns: list[tuple], crawl_date: date) -> list[Finding]:
    """stale_columns and empty_columns from (kind, url, newest_date, item_count, ref) of sampled columns.

    An empty column counts as empty only, not also as stale; a column whose items carry no date
    counts as not updated (国办秘函〔2019〕19号: undated content cannot show it was updated).
    """
    stale, empty = [], []
    for kind, url, newest, count, _ref in columns:
        if count == 0:
            empty.append(url)
        elif newest is None or (crawl_date - newest).days > STALE_AFTER_DAYS[kind]:
            stale.append(f"{url} ({kind}, newest {newest or 'undated'})")
    sampled = f"{len(columns)} columns sampled"
    return [
        Finding("stale_columns", len(stale), OK, f"{sampled}; stale: " + ("; ".join(stale) or "none"),
                "portal.stale_columns", RULE_VERSION),
        Finding("empty_columns", len(empty), OK, f"{sampled}; empty: " + ("; ".join(empty) or "none"),
                "portal.empty_columns", RULE_VERSION),
    ] if columns else [
        Finding("stale_columns", None, ABSENT, "no news / notice / policy column linked from the home page",
                "portal.stale_columns", RULE_VERSION),
        Finding("empty_columns", None, ABSENT, "no news / notice / policy column linked from the home page",
                "portal.empty_columns", RULE_VERSION),
    ]
