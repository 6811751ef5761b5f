"""reconciler: Adobe Offer Decisioning objects managed as code (validate, plan, apply, drift)."""

__version__ = "0.1.0"
