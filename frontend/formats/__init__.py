"""Date and number formats the dashboard uses instead of Django's defaults (settings.FORMAT_MODULE_PATH)."""
