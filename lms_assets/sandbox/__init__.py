"""A local stand-in for the LMS REST API: deterministic data, real HTTP, the real API's faults."""

from lms_assets.sandbox.data import SandboxData
from lms_assets.sandbox.server import Sandbox, SandboxOptions

__all__ = ["Sandbox", "SandboxData", "SandboxOptions"]
