"""M-ERP backend: partners, articles (stored in Directus) and the business object framework."""
