"""MLS wire messages (RFC 9420 §5.3, §6, §10, §12): credentials, leaf nodes, key packages,
proposals, commits, framing and welcome structures.

Import the submodules directly (``from mls_pq.messages.leaf_node import LeafNode``); this
package does not re-export, so that concurrently written submodules stay independent.
"""
