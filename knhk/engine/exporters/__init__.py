"""Writing specification dicts out in other formats (YAWL 4.0 XML)."""

from knhk.engine.exporters.yawl import export_yawl

__all__ = ["export_yawl"]
