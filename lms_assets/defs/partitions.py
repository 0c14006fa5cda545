"""Daily UTC partitions of activity, from the first day of the API's history."""

from dagster import DailyPartitionsDefinition

from lms_assets.defs.config import start_date

daily_partitions = DailyPartitionsDefinition(start_date=start_date(), timezone="UTC")
