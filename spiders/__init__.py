"""Scrapy project of aap: platform bases in ``spiders.bases``, one small module per source in
``spiders.sources``, saved pages in ``spiders/fixtures/<source>/`` (served by the demo portal and parsed by tests)."""
