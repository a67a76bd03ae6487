"""portalgen: a private, branded static portal for every customer of a small business."""

__version__ = "0.1.0"

__all__ = ["__version__"]
