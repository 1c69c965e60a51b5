"""The product's behaviour on asyncio, without Qt: the node and its commands.

It must never import Qt; the daemon and the window run the same ``Node``.
"""
