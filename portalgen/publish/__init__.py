"""Publishing portals into storage (see manifest.py for the layout and the commit point)."""
