"""The item pipeline: observations into the database, with the evidence and status rules enforced."""

from __future__ import annotations

import dataclasses
import logging

from scrapy.exceptions import DropItem

from spiders.items import ObservationItem
from spiders.store import store_for
from storage.store import OutOfUnitRange

logger = logging.getLogger(__name__)

# ObservationItem's fields, read straight off the dataclass (ItemAdapter.asdict walks every value to
# convert nested items, which observations do not have; it was most of this pipeline's time).
_FIELDS = tuple(f.name for f in dataclasses.fields(ObservationItem))


class ObservationPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item, spider=None):
        if not isinstance(item, ObservationItem):
            return item
        data = {name: _copy(getattr(item, name)) for name in _FIELDS}
        try:
            try:
                store_for(self.crawler).record_observation(**data)
            except OutOfUnitRange as exc:
                # Missing is not zero, and a misread is not missing: the city keeps a row, status error,
                # citing the page and saying what the rule produced.
                self.crawler.stats.inc_value("sgi/observations_out_of_range")
                data.update(status="error", value=None,
                            evidence_detail=f"rule produced a value outside the unit: {exc}")
                store_for(self.crawler).record_observation(**data)
                item = dataclasses.replace(item, status="error", value=None, evidence_detail=data["evidence_detail"])
        except (ValueError, Exception) as exc:  # a broken item must not end the crawl
            self.crawler.stats.inc_value("sgi/observations_rejected")
            raise DropItem(f"rejected observation {data.get('indicator')} for {data.get('city_code')}: {exc}")
        self.crawler.stats.inc_value("sgi/observations")
        self.crawler.stats.inc_value(f"sgi/status/{item.status}")
        return item

    def close_spider(self, spider=None):
        store_for(self.crawler).flush()


def _copy(value):
    return list(value) if isinstance(value, list) else dict(value) if isinstance(value, dict) else value
