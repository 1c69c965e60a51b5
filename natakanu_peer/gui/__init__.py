"""The desktop window: Qt widgets over the node, on one event loop (qasync).

``launch`` starts it, ``bridge`` is its only way to the node, ``models`` hold what it
shows, ``window`` and ``dialogs`` are what a person sees. Nothing outside this package
imports Qt, and nothing in it touches the network or the disk except through the node.
"""
