"""Daily UTC partitions of a tenant's activity and CPD entries, from the first day of its API's history."""

from __future__ import annotations

from functools import cache

from dagster import DailyPartitionsDefinition

from lms_assets.tenant.tenant import Tenant


def partitions_for(tenant: Tenant) -> DailyPartitionsDefinition:
    return _daily(tenant.first_day())


@cache
def _daily(start_date: str) -> DailyPartitionsDefinition:
    # one object per start date: the assets, checks and schedules of a tenant compare equal partitions
    return DailyPartitionsDefinition(start_date=start_date, timezone="UTC")

