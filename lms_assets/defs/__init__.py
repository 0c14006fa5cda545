"""One `defs.yaml` per LMS tenant (`LmsTenantComponent`); `lms/` is the first, with the keys `lms/...`."""
