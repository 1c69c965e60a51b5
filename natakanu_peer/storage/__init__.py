"""Storage adapters: where things live on disk, the SQLite state, the content store.

This package is the one owner of user paths. It must never import ``net`` or the GUI.
"""
