"""Network adapters: asyncio and aiohttp glue around the sans-I/O protocol objects.

Nothing here decides protocol behaviour; it moves bytes and timers in and out.
"""
