"""The first tenant's keys (prefix `lms`, dataset `lms`), as the tests name them."""

from dagster import AssetKey

from lms_assets.tenant.tenant import Tenant

FIRST = Tenant()  # lms_assets/defs/lms/defs.yaml


def lms_key(name: str) -> AssetKey:
    return FIRST.key(name)


ACTIVITIES = lms_key("activities")
USER_ACTIVITY_DAILY = lms_key("user_activity_daily")
