"""Constants of the State Council website-inspection rules (国办秘函〔2019〕19号 and the 政府网站发展指引
metadata spec) that both the collectors and the sample web's truth refer to: one source of truth."""

# Days after which a column counts as not updated, by column kind.
STALE_AFTER_DAYS = {"news": 14, "notice": 183, "policy": 183}
HOMEPAGE_STALE_AFTER_DAYS = 14

# Required <meta name=...> page tags by page type (政府网站发展指引, 网页标签 spec). A page's share is
# present / applicable; page_meta_tags_share sums over the sampled pages.
META_TAGS_BY_PAGE_TYPE = {
    "home": ("SiteName", "SiteDomain", "SiteIDCode"),
    "column": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType"),
    "article": ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType",
                "ArticleTitle", "PubDate", "ContentSource"),
}

# Pages the portal spider samples for the meta-tag check and the column checks.
MAX_COLUMNS_SAMPLED = 6          # column pages linked from the home page, in document order
MAX_BROKEN_LINK_SAMPLE = 50      # same-site home-page links checked, in document order
