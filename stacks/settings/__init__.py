"""Typed, validated stack settings (see `model.py`) and how they are read (`loader.py`)."""

from .errors import SettingsError
from .loader import NAMESPACE, load_settings
from .model import StackSettings

__all__ = ["NAMESPACE", "SettingsError", "StackSettings", "load_settings"]
